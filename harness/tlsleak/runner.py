"""Run one cell (a scenario under an allocator configuration): start the process, sample it
from outside, read its checkpoints, and turn all of it into a verdict."""
import os
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass

import psutil

from tlsleak import checkpoints, procmem, verdict

PRELOAD_VARS = ("LD_PRELOAD", "DYLD_INSERT_LIBRARIES")
MAX_SAMPLES_KEPT = 400
STDERR_TAIL = 2000


@dataclass
class Settings:
    threads: int = 10000
    concurrency: int = 1
    size: int = 1024
    interval: int = 0  # 0: threads / 40
    warmup: float = 0.2
    floor: float = 128.0
    stats_floor: float = 32.0
    deciding: tuple = verdict.DECIDING
    confidence: float = 0.95
    sample_interval_s: float = 0.01
    timeout_s: float = 120.0
    max_rss: int = 0  # caps that stop a runaway before the machine suffers; 0 = none
    max_vsize: int = 0
    max_maps: int = 0
    sequential: bool = True  # end a cell as soon as its verdict is settled
    budget_s: float = 30.0  # sequential: judge what arrived by then

    def with_default_caps(self, jobs):
        """Caps derived from the machine: half the memory shared by the cells running at once,
        16 times the memory in address space, 80 % of vm.max_map_count."""
        total = psutil.virtual_memory().total
        limit = procmem.map_count_limit()
        self.max_rss = self.max_rss or total // (2 * jobs)
        self.max_vsize = self.max_vsize or 16 * total
        self.max_maps = self.max_maps or (int(limit * 0.8) if limit else 0)
        return self

    def effective_interval(self):
        return self.interval or max(1, self.threads // 40)

    def as_dict(self):
        d = dict(self.__dict__, deciding=list(self.deciding))
        d["interval"] = self.effective_interval()
        return d


@dataclass
class Cell:
    id: str
    scenario: str
    role: str
    config: object  # configs.Config
    argv: list
    expect: str = ""


def scenario_cell(scenario, config, settings):
    """The cell that runs a catalog scenario under a configuration with these settings."""
    argv = [os.path.join(config.bin_dir, scenario.name),
            "--threads", str(settings.threads), "--concurrency", str(settings.concurrency),
            "--size", str(settings.size), "--interval", str(settings.effective_interval())]
    return Cell(id=f"{scenario.name}-{config.slug}", scenario=scenario.name, role=scenario.role,
                config=config, argv=argv, expect=config.expect)


def cell_env(config):
    """The child's environment: the caller's, minus inherited preloads, plus the configured one.

    Only the configured library, an absolute path that exists, is ever preloaded."""
    env = {k: v for k, v in os.environ.items() if k not in PRELOAD_VARS}
    env_set = {}
    if config.mode == "override":
        if not (os.path.isabs(config.preload) and os.path.isfile(config.preload)):
            raise ValueError(f"preload library missing: {config.preload!r}")
        var = "DYLD_INSERT_LIBRARIES" if os.uname().sysname == "Darwin" else "LD_PRELOAD"
        env_set[var] = config.preload
    env.update(env_set)
    return env, env_set


class _Live:
    """Processes running right now, so an interrupt can stop every one of them."""

    def __init__(self):
        self._procs = set()
        self._lock = threading.Lock()
        self.stopping = False

    def add(self, proc):
        with self._lock:
            self._procs.add(proc)

    def discard(self, proc):
        with self._lock:
            self._procs.discard(proc)

    def kill_all(self):
        self.stopping = True
        with self._lock:
            for proc in list(self._procs):
                _kill_group(proc)


LIVE = _Live()


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _watch(proc, ps, settings, samples, t0, log, seq):
    """Sample the process until it exits. Returns (stop, judgement): stop is None (it exited),
    "timeout", "decided" or "budget" (sequential), or the cap it broke."""
    n = seen = 0
    while proc.poll() is None:
        now = time.monotonic() - t0
        if now > settings.timeout_s:
            _kill_group(proc)
            return "timeout", None
        if seq is not None and len(log.checkpoints) > seen:
            seen = len(log.checkpoints)
            decided = seq.look(log.checkpoints[:seen])
            if decided is not None:
                _kill_group(proc)
                return "decided", decided
            if now > settings.budget_s:
                _kill_group(proc)
                return "budget", None
        if ps is not None:
            try:
                s = {"t": round(now, 4), **procmem.sample(ps)}
            except psutil.Error:
                s = None
            if s is not None:
                if n % 10 == 0:  # reading the map list costs more: every 10th sample
                    maps = procmem.count_maps(proc.pid)
                    if maps is not None:
                        s["maps"] = maps
                samples.append(s)
                broke = _cap_broken(s, settings)
                if broke:
                    _kill_group(proc)
                    return broke, None
        n += 1
        time.sleep(settings.sample_interval_s)
    return None, None


def _cap_broken(sample, settings):
    for key, cap, what in (("rss", settings.max_rss, "RSS"), ("vsize", settings.max_vsize,
                           "virtual size"), ("maps", settings.max_maps, "memory mappings")):
        value = sample.get(key)
        if cap and value is not None and value > cap:
            fmt = str if key == "maps" else _mib
            return f"{what} {fmt(value)} exceeded the cap {fmt(cap)}"
    return None


def _mib(n):
    return f"{n / (1 << 20):.0f} MiB"


def _read_stdout(stream, log, t0):
    for raw in stream:
        log.feed(raw.decode("utf-8", "replace"), time.monotonic() - t0)


def _downsample(samples, keep=MAX_SAMPLES_KEPT):
    if len(samples) <= keep:
        return samples
    step = len(samples) / keep
    return [samples[int(i * step)] for i in range(keep)] + [samples[-1]]


def _exit_verdict(returncode):
    """crash for a death by signal (or a Windows exception code), error for a failing exit."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return "crash", f"killed by {name}"
    if returncode >= 0xC0000000:  # NTSTATUS exception, e.g. 0xC0000005 access violation
        return "crash", f"exception 0x{returncode:08X}"
    return "error", f"exited with code {returncode}"


def _allocator_problem(log, expect):
    """Why the process is not served by the configured allocator, or None."""
    if not expect:
        return None
    alloc = log.alloc
    if alloc is None:
        return "the program reported no allocator (no 'alloc' line)"
    name = alloc.get("name")
    if name != expect:
        return (f"allocator check failed: configured {expect}, but malloc is served by {name} "
                f"(from {alloc.get('malloc_from', '?')})")
    if str(alloc.get("owns")) != "1":
        return f"allocator check failed: {expect} is loaded but does not own a fresh malloc block"
    return None


def run_cell(cell, settings):
    """Run one cell to its end and return its result record (see docs/RESULTS.md)."""
    t_start = time.monotonic()
    log = checkpoints.CheckpointLog()
    samples = []
    result = {
        "id": cell.id, "scenario": cell.scenario, "role": cell.role,
        "config": cell.config.label,
        "allocator": {"id": cell.config.id, "name": cell.config.name,
                      "version": cell.config.version, "mode": cell.config.mode,
                      "library": cell.config.library or None, "origin": cell.config.origin},
        "observed_allocator": None, "verdict": "error", "reason": "", "signal": None,
        "rate": None, "signals": {},
        "threads": {"requested": settings.threads if cell.role != "exec" else None,
                    "finished": None, "os_baseline": None, "os_final": None,
                    "os_max_sampled": None},
        "exit": {"code": None, "signal": None},
        "duration_s": 0.0, "command": list(cell.argv), "env": {},
        "checkpoints": [], "samples": [], "stderr_tail": "",
    }
    if LIVE.stopping:
        result["interrupted"] = True
        return result
    try:
        env, result["env"] = cell_env(cell.config)
    except ValueError as e:
        result["reason"] = str(e)
        return result

    seq = verdict.Sequential(floor=settings.floor, confidence=settings.confidence,
                             warmup=settings.warmup, stats_floor=settings.stats_floor,
                             deciding=settings.deciding,
                             looks=settings.threads // settings.effective_interval()) \
        if settings.sequential and cell.role not in ("exec", "fault") else None
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(cell.argv, stdout=subprocess.PIPE, stderr=err,
                                    stdin=subprocess.DEVNULL, env=env,
                                    start_new_session=True, close_fds=True)
        except OSError as e:
            result["reason"] = f"cannot start {cell.argv[0]}: {e.strerror}"
            return result
        LIVE.add(proc)
        t0 = time.monotonic()
        reader = threading.Thread(target=_read_stdout, args=(proc.stdout, log, t0), daemon=True)
        reader.start()
        try:
            ps = psutil.Process(proc.pid)
        except psutil.Error:
            ps = None
        stop, decided = _watch(proc, ps, settings, samples, t0, log, seq)
        proc.wait()
        _kill_group(proc)  # whatever the program left behind in its group goes too
        reader.join(timeout=5)
        LIVE.discard(proc)
        err.seek(0)
        result["stderr_tail"] = err.read().decode("utf-8", "replace")[-STDERR_TAIL:]
    if LIVE.stopping:  # cut short by an interrupt: not a finished cell
        result["interrupted"] = True
        return result

    result["duration_s"] = round(time.monotonic() - t_start, 3)
    result["exit"]["code"] = proc.returncode
    if proc.returncode is not None and proc.returncode < 0:
        result["exit"]["signal"] = -proc.returncode
    result["checkpoints"] = log.checkpoints
    result["samples"] = _downsample(samples)
    if log.alloc is not None:
        a = log.alloc
        result["observed_allocator"] = {
            "name": a.get("name"), "version": str(a.get("version", "")),
            "owns": str(a.get("owns")) == "1", "malloc_from": a.get("malloc_from", ""),
            "libc": a.get("libc", "")}
    cps = log.checkpoints
    th = result["threads"]
    if cps:
        th["finished"] = cps[-1].get("done")
        th["os_baseline"] = cps[0].get("os_threads")
        th["os_final"] = cps[-1].get("os_threads")
    if samples:
        th["os_max_sampled"] = max(s["threads"] for s in samples)

    judged = decided or (seq.judge(cps) if seq is not None else verdict.judge_signals(
        log, floor=settings.floor, confidence=settings.confidence, warmup=settings.warmup,
        stats_floor=settings.stats_floor, deciding=settings.deciding))
    result["signals"] = judged.signals_dict()
    result["attribution"] = verdict.attribution(judged)
    timeline = [(c["t_recv"], c["done"]) for c in cps if "t_recv" in c]
    ext = verdict.judge_external([(s["t"], s["rss"]) for s in samples], timeline,
                                 floor=settings.floor, confidence=settings.confidence,
                                 warmup=settings.warmup)
    result["signals"]["external_rss"] = ext.to_dict()

    _conclude(result, stop, judged, proc.returncode, log, cell, settings, samples)
    return result


def _conclude(result, stop, judged, returncode, log, cell, settings, samples):
    """Set the cell's verdict and reason: the most telling cause first (a hang, a runaway, a
    crash, a wrong allocator), then the judgement of the memory signals."""
    cps = log.checkpoints
    after = f"after {result['threads']['finished'] or 0} threads"
    ours = stop in ("decided", "budget")  # sequential judging stopped it on purpose

    def judged_verdict(which=None, reason=None):
        result["verdict"] = which or judged.verdict
        result["reason"] = reason or judged.reason
        result["signal"] = judged.signal
        result["rate"] = verdict.rate_to_dict(judged.rate)

    if stop == "timeout":
        result["verdict"] = "timeout"
        result["reason"] = f"no exit within {settings.timeout_s:g} s; process group killed {after}"
    elif stop is not None and not ours:  # a cap: a runaway leak, with the rate measured so far
        judged_verdict("leak", f"runaway: {stop}; process group killed {after}")
        result["runaway"] = True
    elif not ours and returncode != 0:
        result["verdict"], result["reason"] = _exit_verdict(returncode)
        result["reason"] += f" (last checkpoint: {cps[-1]['done'] if cps else None} threads)"
    elif log.version_mismatch:
        result["reason"] = "the program speaks another checkpoint format version"
    elif (problem := _allocator_problem(log, cell.expect)) is not None:
        result["reason"] = problem
    elif ours:
        why = "settled" if stop == "decided" else f"time budget {settings.budget_s:g} s reached"
        judged_verdict(reason=f"{judged.reason} ({why} {after})")
        result["stopped_early"] = True
    elif cell.role != "exec" and log.end is None:
        result["reason"] = "the program exited without its 'end' line"
    elif not cps and cell.role == "exec":
        result["verdict"], result["reason"], result["rate"] = _judge_in_time(samples, settings)
    elif not cps:
        result["reason"] = "the program printed no checkpoints"
    else:
        judged_verdict()


def _judge_in_time(samples, settings):
    """A program without checkpoints: its growth per second, measured but not judged, since a
    per-thread verdict needs the number of threads it created."""
    t = [s["t"] for s in samples if s["t"] >= settings.warmup * samples[-1]["t"]] if samples else []
    rate = verdict.theil_sen(t, [s["rss"] for s in samples[-len(t):]],
                             confidence=settings.confidence) if len(t) >= 6 else None
    if rate is None:
        return "inconclusive", "no checkpoints and too few samples to measure growth", None
    return ("inconclusive",
            f"no TLSLEAK/1 checkpoints: RSS grows {rate.slope:.0f} B/s ({rate.low:.0f}.."
            f"{rate.high:.0f}); print checkpoints for a per-thread verdict",
            {**verdict.rate_to_dict(rate), "unit": "B/s"})


