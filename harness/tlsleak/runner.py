"""Run one cell (a pipeline.Cell: a program under an allocator configuration): start the
process, sample it from outside, read its checkpoints, stop it when asked, and say what
happened (a policy.Outcome). Planning, judging and the pool are pipeline.py's business, process
control the host's."""
import os
import subprocess
import threading
import time

import psutil

from tlsleak import checkpoints, environment, interrupts, platforms, policy, verdict
from tlsleak.host import current as host
from tlsleak.target import PRELOAD_VARS, Target

STDERR_TAIL = 2000  # characters of stderr kept in a cell
SAMPLE_BUDGET = 1000  # external samples kept per cell: at most 2 x this many


def cell_env(config, tgt=None, extra=None):
    """(the child's environment, the part of it to record): environment.inherited() plus
    `extra` (given explicitly, e.g. --env) plus the configured preload.

    Only the configured library, an absolute path that exists, is ever preloaded."""
    tgt = tgt or Target()
    env = environment.inherited()
    env_set = dict(tgt.launcher_env)  # what the launcher needs (Wine: WINEPREFIX, WINEDEBUG)
    env_set.update({k: v for k, v in (extra or {}).items() if k not in PRELOAD_VARS})
    if config.mode == "override":
        if not (os.path.isabs(config.preload) and os.path.isfile(config.preload)):
            raise ValueError(f"preload library missing: {config.preload!r}")
        if not tgt.preload_var:
            raise ValueError(f"{tgt.system or 'this target'} has no library preloading")
        env_set[tgt.preload_var] = config.preload
    env.update(env_set)
    return env, env_set


class _Live:
    """Processes running right now, so an interrupt can stop every one of them."""

    def __init__(self):
        self._procs = set()
        self._lock = threading.Lock()
        self.stopping = False

    def start(self, argv, **kwargs):
        """Popen, registered at once: a sweep of strays never takes a child just started, and
        an interrupt either finds it registered or keeps it from starting (None)."""
        # From the main thread (bench), the fork must not take an interrupt mid-way
        # (interrupts.held); other threads never run signal handlers.
        with self._lock, interrupts.held():
            if self.stopping:
                return None
            proc = subprocess.Popen(argv, **kwargs)
            self._procs.add(proc)
            return proc

    def sweep(self):
        """Kill whatever came back to the harness that is not a running cell (a grandchild
        that escaped its group with setsid()); returns the pids killed."""
        with self._lock:
            return host.reap_strays(keep={p.pid for p in self._procs})

    def add(self, proc):
        with self._lock:
            self._procs.add(proc)

    def discard(self, proc):
        with self._lock:
            self._procs.discard(proc)

    def kill_all(self):
        with self._lock:
            self.stopping = True
            for proc in list(self._procs):
                host.kill_tree(proc)


LIVE = _Live()


def _watch(proc, ps, limits, criteria, samples, t0, log, seq, hook=None):
    """Sample the process until it exits. Returns (stop, detail, settled_on): stop is one of
    vocab.STOPS; settled_on the checkpoints sequential judging settled on, else ().
    `hook` (exec_probe.Counter): pairs each sample with thread counts and may end the run."""
    n = seen = 0
    while proc.poll() is None:
        now = time.monotonic() - t0
        if now > limits.timeout_s:
            host.kill_tree(proc)
            return "timeout", f"no exit within {limits.timeout_s:g} s", ()
        ended = hook.should_stop(now) if hook is not None else None
        if ended is not None:
            host.kill_tree(proc)
            return (*ended, ())
        looked = None
        if log.checkpoints or hook is None:  # the program's own (thinned) checkpoints
            if log.received > seen:
                seen, looked = log.received, list(log.checkpoints)
        else:  # --exec: samples paired with the probe's thread counts
            series = hook.series()
            if len(series) > seen and hook.look_due(now):
                seen, looked = len(series), list(series)
        if seq is not None and looked is not None:
            if seq.look(looked) is not None:
                host.kill_tree(proc)
                return "settled", "", tuple(looked)
            if now > criteria.budget_s:
                host.kill_tree(proc)
                return "budget", "", ()
        if ps is not None:
            if hook is not None:
                hook.before()
            try:
                s = {"t": round(now, 4), **host.sample(ps)}
            except psutil.Error:
                s = None
            if s is not None:
                if hook is not None:
                    hook.after(s, s["t"])
                if n % 10 == 0:  # reading the map list costs more: every 10th sample
                    maps = host.count_maps(proc.pid)
                    if maps is not None:
                        s["maps"] = maps
                _keep_sample(samples, s)
                broke = _cap_broken(s, limits)
                if broke:
                    host.kill_tree(proc)
                    return "cap", broke, ()
        n += 1
        time.sleep(limits.sample_interval_s)
    return "exited", "", ()


def _cap_broken(sample, limits):
    for key, cap, what in (("rss", limits.max_rss, "RSS"), ("vsize", limits.max_vsize,
                           "virtual size"), ("maps", limits.max_maps, "memory mappings")):
        value = sample.get(key)
        if cap and value is not None and value > cap:
            fmt = str if key == "maps" else _mib
            return f"{what} {fmt(value)} exceeded the cap {fmt(cap)}"
    return None


def _mib(n):
    return f"{n / (1 << 20):.0f} MiB"


def _keep_sample(samples, s, budget=SAMPLE_BUDGET):
    """Append, halving evenly (first and latest kept) past 2 x budget: bounded memory."""
    samples.append(s)
    if len(samples) > 2 * budget:
        samples[:] = samples[:-1:2] + samples[-1:]


def _read_stdout(stream, log, t0):
    """Feed the log line by line; a line longer than MAX_LINE is fed cut (the log counts it
    as over-long) and the rest of it skipped, so no line is ever held whole."""
    cap = checkpoints.MAX_LINE
    while True:
        raw = stream.readline(cap + 1)
        if not raw:
            return
        if len(raw) > cap and not raw.endswith(b"\n"):
            rest = raw
            while rest and not rest.endswith(b"\n"):
                rest = stream.readline(1 << 16)
        log.feed(raw.decode("utf-8", "replace"), time.monotonic() - t0)


def _read_tail(stream, keep):
    """Read a stream to its end keeping only its last `keep` bytes."""
    tail = bytearray()
    for chunk in iter(lambda: stream.read1(1 << 16), b""):
        tail += chunk
        del tail[:-keep]
    return bytes(tail)


def run_cell(cell, settings, env=None, hook=None):
    """Run one cell to its end and return what happened (a policy.Outcome). `env`: the
    child's environment (default: cell_env(cell.config)); `hook`: an exec_probe.Counter."""
    t_start = time.monotonic()
    if LIVE.stopping:
        return policy.Outcome(stop="interrupted")
    if env is None:
        try:
            env, _ = cell_env(cell.config, cell.target, cell.env)
        except ValueError as e:
            return policy.Outcome(stop="not_started", detail=str(e))
    criteria, limits = settings.criteria, settings.limits
    seq = verdict.Sequential(looks=settings.workload.looks, **criteria.judge_kw()) \
        if policy.sequential(criteria, cell.role) else None
    log = checkpoints.CheckpointLog()
    samples = []
    try:
        proc = LIVE.start(cell.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, env=env, **host.popen_kwargs())
    except OSError as e:
        return policy.Outcome(stop="not_started",
                              detail=f"cannot start {cell.argv[0]}: {e.strerror}")
    if proc is None:  # an interrupt came between the check above and the start
        return policy.Outcome(stop="interrupted")
    t0 = time.monotonic()
    reader = threading.Thread(target=_read_stdout, args=(proc.stdout, log, t0), daemon=True)
    reader.start()
    err = {}
    err_reader = threading.Thread(
        target=lambda: err.setdefault("tail", _read_tail(proc.stderr, 4 * STDERR_TAIL)),
        daemon=True)
    err_reader.start()
    try:
        ps = psutil.Process(proc.pid)
    except psutil.Error:
        ps = None
    if hook is not None:
        hook.started(proc.pid)
    try:
        stop, detail, settled_on = _watch(proc, ps, limits, criteria, samples, t0, log, seq,
                                          hook)
    finally:
        proc.wait()
        host.kill_tree(proc)  # whatever the program left behind in its group goes too
        LIVE.discard(proc)
        LIVE.sweep()  # and whatever escaped the group (setsid) and came back to us
    reader.join(timeout=5)
    err_reader.join(timeout=5)
    tail = err.get("tail", b"").decode("utf-8", "replace")[-STDERR_TAIL:]
    if LIVE.stopping:  # cut short by an interrupt: not a finished cell
        return policy.Outcome(stop="interrupted")
    counted = () if log.checkpoints or hook is None else hook.series()
    return policy.Outcome(
        stop=stop, detail=detail, returncode=proc.returncode,
        checkpoints=tuple(log.checkpoints or counted), samples=tuple(samples), alloc=log.alloc,
        end=log.end, version_mismatch=log.version_mismatch, settled_on=settled_on,
        stderr_tail=tail, duration_s=round(time.monotonic() - t_start, 3),
        probe=hook.record() if hook is not None else None, malformed=log.malformed,
        exit_reading=platforms.get(cell.target.platform).describe_exit(proc.returncode, log.end))
