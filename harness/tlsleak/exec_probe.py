"""`run --exec` with the probe: count an unmodified program's threads and pair them with the
memory sampled from outside (docs/DESIGN.md section 5).

For every exec cell on a target that can preload a library, `attach` creates the probe file,
puts libtlsleak_probe.so in the preload variable beside the configuration's own library (the
allocator first) and returns a `Counter`, the runner's sampling hook. At each sample the runner
calls `before()`, takes the memory figure, then `after(sample, t)`: the counts are read just
before and just after the figure, and the sample's x is the mean of the two `finished` (rounded
to a whole thread; the two reads are microseconds apart), one point per count (the latest).
These paired samples are the cell's checkpoint series, judged as the built-in scenarios'
(B/thread). When the probe file stays
unclaimed (a static program: no preload reaches it) or no thread finishes, there is no series
and policy.decide judges growth in time (B/s).

The hook also says when to stop a program that would run on: after `--threads` finished threads
(counted by the probe), after `--duration` seconds, or at the sequential `--budget`. Those are
normal ends, judged on what was seen, never a timeout.
"""
import os
import shutil
import tempfile

from tlsleak import probe

# Paired points a run needs before --threads may end it (the trend thins to at most 1000 and
# wants 6 after the warm-up).
MIN_POINTS = 20
# Samples in a row (10 ms apart) that must miss the override's library before it counts as
# not loaded.
MISSES = 3

def attach(cell, settings, env, env_set):
    """(env, env_set, Counter) for an exec cell; the Counter is None (and env unchanged) when
    the cell is not an exec cell or its target cannot preload the probe."""
    tgt = cell.target
    library = getattr(tgt, "probe", "")
    if cell.role != "exec" or env is None or not library or not tgt.preload_var \
            or not os.path.isfile(library):
        return env, env_set, None
    folder = tempfile.mkdtemp(prefix="tlsleak-probe-")
    path = probe.create(os.path.join(folder, "counts"))
    var = tgt.preload_var
    extra = {probe.ENV: str(path), var: probe.preload_list(library, env.get(var, ""))}
    counter = Counter(path, folder, settings, preload=cell.config.preload)
    return {**env, **extra}, {**env_set, **extra}, counter


class Counter:
    """The sampling hook of one exec cell: pairs samples with thread counts, and says when to
    stop. `close()` removes the probe file."""

    def __init__(self, path, folder, settings, preload=""):
        self.path, self._folder = path, folder
        self.reader = probe.Reader(path)
        self.pid = None
        self.threads = settings.workload.threads
        c = settings.criteria
        self.deadline = settings.limits.duration_s or (c.budget_s if c.sequential else 0)
        self.deadline_stop = "duration" if settings.limits.duration_s else "budget"
        self.preload = preload
        self.preload_mapped = None  # None: not checked (no override, or no /proc)
        self._misses = 0  # samples in a row that found the preload not mapped
        self.checkpoints = []
        self.last = None  # the last Counts of the measured process
        self._before = None
        # Sequential judging looks once per --interval finished threads, as it does at each
        # checkpoint of a scenario: the looks it plans for (threads / interval), not one per
        # 10 ms sample.
        self.interval = settings.workload.effective_interval
        self._next_look = self.interval

    # --- sampling -------------------------------------------------------------------------

    def started(self, pid):
        self.pid = pid

    def before(self):
        self._before = self.reader.read()

    def after(self, sample, t):
        """Pair `sample` (the runner's dict with rss, vsize, threads) taken at `t` with the
        counts around it; returns the checkpoint it made, or None."""
        before, after = self._before, self.reader.read()
        if before is None or after is None or after.pid != self.pid or before.pid != self.pid:
            return None
        if self.preload and self.preload_mapped is not True:
            # Claimed: the probe's constructor ran, so every preload has been loaded (or
            # skipped by the dynamic linker, which only warns when it cannot load one). A miss
            # counts only when it lasts: an exec (a #! script through env) briefly maps the new
            # image before its preloads.
            seen = mapped(self.pid, self.preload)
            self._misses = 0 if seen is not False else self._misses + 1
            if seen or self._misses >= MISSES:
                self.preload_mapped = seen
        self.last = after
        cp = {"done": (before.finished + after.finished + 1) // 2, "rss": sample["rss"],
              "vsize": sample["vsize"], "os_threads": sample["threads"], "t_recv": t}
        if self.checkpoints and self.checkpoints[-1]["done"] == cp["done"]:
            # One point per count, the latest: a slow program (a thread per 100 ms) would
            # otherwise give runs of ties in x, which leave Theil-Sen without an interval.
            self.checkpoints[-1] = cp
        else:
            self.checkpoints.append(cp)
        return cp

    def look_due(self, t):
        """Whether sequential judging should look now: another `interval` threads finished."""
        if not self.series() or self.last.finished < self._next_look:
            return False
        while self._next_look <= self.last.finished:
            self._next_look += self.interval
        return True

    def should_stop(self, t):
        """(stop, detail) when the program has run long enough, else None."""
        # --threads counts once the slope has its points: a program that churns thousands of
        # threads per 10 ms sample would otherwise stop with too few to judge.
        if self.last is not None and self.threads and self.last.finished >= self.threads \
                and len(self.checkpoints) >= MIN_POINTS:
            return "threads", f"{self.last.finished} threads finished (--threads {self.threads})"
        if self.deadline and t > self.deadline:
            return self.deadline_stop, f"ran {self.deadline:g} s"
        return None

    # --- after the run --------------------------------------------------------------------

    def series(self):
        """The paired samples, or () when no thread was counted (a static program, or one
        that finished no thread): then the cell is judged in time."""
        if self.last is None or self.last.finished == 0:
            return ()
        return self.checkpoints

    def record(self):
        """What the results document keeps of the probe (docs/RESULTS.md)."""
        final = probe.read_file(self.path)
        counts = final if final is not None and final.pid == self.pid else None
        return {"claimed": counts is not None,
                "counts": None if counts is None else counts.as_dict(),
                "preload_mapped": self.preload_mapped}

    def close(self):
        self.reader.close()
        shutil.rmtree(self._folder, ignore_errors=True)


def mapped(pid, library):
    """Whether `library` is mapped into process `pid` (/proc/PID/maps), None where there is no
    /proc. A preloaded library that defines malloc and is mapped has interposed the program's
    malloc: the dynamic linker put it ahead of libc. A static program maps nothing preloaded."""
    try:
        with open(f"/proc/{pid}/maps") as fh:
            text = fh.read()
    except OSError:
        return None
    if not text:  # already gone (a zombie maps nothing): unknown, asked again at the next sample
        return None
    want = os.path.realpath(library)
    return any(line.rstrip().endswith(want) for line in text.splitlines())
