"""`run --exec` with the probe: count the threads of every process of an unmodified command,
and say when to stop it (docs/DESIGN.md "The probe").

For every exec cell on a target that can preload a library, `attach` creates the probe file,
puts libtlsleak_probe.so in the preload variable beside the configuration's own library (the
allocator first) and returns a `Probe`. The sampler (sampler.py) pairs each process's memory
with the threads finished in its slot; subjects.py turns the processes into the cell's
subjects. A process the probe does not reach (a static program) is judged in time.

An --exec cell has no plan of its own, so it is never settled early: it runs until the
command ends, until its processes have finished --threads threads (the sampler stops it there,
once the harness has released it: a cell whose looks cannot decide yet keeps running), or
until --duration (default: the sequential --budget). Those are normal ends, judged on
everything seen, never a timeout.
"""
import os
import shutil
import tempfile

from tlsleak import probe


def attach(cell, settings, env, env_set):
    """(env, env_set, Probe) for an exec cell; the Probe is None (and env unchanged) when the
    cell is not an exec cell or its target cannot preload the probe."""
    tgt = cell.target
    library = getattr(tgt, "probe", "")
    if cell.role != "exec" or env is None or not library or not tgt.preload_var \
            or not os.path.isfile(library):
        return env, env_set, None
    folder = tempfile.mkdtemp(prefix="tlsleak-probe-")
    path = probe.create(os.path.join(folder, "counts"), gate=True)  # waits for the sampler
    var = tgt.preload_var
    extra = {probe.ENV: str(path), var: probe.preload_list(library, env.get(var, ""))}
    return {**env, **extra}, {**env_set, **extra}, Probe(path, folder, library,
                                                         cell.config.preload)


class Probe:
    """The probe file of one exec cell. `close()` removes it."""

    def __init__(self, path, folder, library, preload=""):
        self.path, self._folder = path, folder
        self.library, self.preload = library, preload

    def final(self):
        """Every slot, read once the command has ended (None when the file is unreadable)."""
        return probe.read_file(self.path)

    def close(self):
        shutil.rmtree(self._folder, ignore_errors=True)


def deadline(settings):
    """(seconds, stop) after which an exec cell is stopped and judged: --duration, else the
    sequential --budget; (0, "") for none."""
    if settings.limits.duration_s:
        return settings.limits.duration_s, "duration"
    c = settings.criteria
    return (c.budget_s, "budget") if c.sequential else (0, "")


def record(final, subjects):
    """What the results document keeps of the probe (docs/RESULTS.md): whether any process
    claimed a slot, the counts summed over the processes, processes left without a slot, and
    whether the override's library was mapped in every counted subject (None: not checked)."""
    slots = final.slots if final is not None else ()
    counted = [s for s in subjects if s.counted_by == "probe"]
    seen = [s.preload_mapped for s in counted if s.preload_mapped is not None]
    summed = {name: sum(getattr(c, name) for c in slots)
              for name in ("started", "finished", "returned", "detached", "unwrapped")}
    return {"claimed": bool(slots), "counts": summed if slots else None,
            "processes": len(slots), "overflow": final.overflow if final is not None else 0,
            "preload_mapped": all(seen) if seen else None}
