"""Run one cell (a pipeline.Cell: a program under an allocator configuration): start the
process, sample it from outside, read its checkpoints, stop it when asked, and say what
happened (a policy.Outcome). Planning, judging and the pool are pipeline.py's business, process
control the host's."""
import os
import subprocess
import threading
import time

from tlsleak import (checkpoints, environment, exec_probe, interrupts, platforms, policy,
                     probe, sampler as sampling, stats, subjects)
from tlsleak.host import current as host
from tlsleak.vocab import EXEC
from tlsleak.target import PRELOAD_VARS, Target

STDERR_TAIL = 2000  # characters of stderr kept in a cell


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


def _watch(proc, sampler, settings, log, seq, t0, role=""):
    """Watch the running cell until it ends. Returns (stop, detail, settled_on): stop is one of
    vocab.STOPS; settled_on the checkpoints sequential judging settled on, else (). The
    sampling is the sampler's (sampler.py), in a process of its own: this loop only judges
    and stops. An --exec cell (role exec) is never settled early: its looks release it to be
    stopped at --threads (by the sampler)."""
    limits, criteria, tree = settings.limits, settings.criteria, sampler.tree
    until, until_stop = exec_probe.deadline(settings) if role == EXEC else (0, "")
    looks = _ExecLooks(sampler, settings, log, seq) if role == EXEC else None
    seen = 0
    while True:
        if tree.stop is not None:  # the sampler stopped it: a cap, or --threads
            host.kill_tree(proc)
            return (*tree.stop, ())
        if proc.poll() is not None:
            sampler.drain()  # its last records: the sampler may have stopped it (a cap)
            return tree.stop + ((),) if tree.stop is not None else ("exited", "", ())
        now = time.monotonic() - t0
        if now > limits.timeout_s:
            host.kill_tree(proc)
            return "timeout", f"no exit within {limits.timeout_s:g} s", ()
        if until and now > until:
            host.kill_tree(proc)
            return until_stop, f"ran {until:g} s", ()
        if looks is not None:
            looks.look()
        elif seq is not None and log.received > seen:
            seen, cps = log.received, list(log.checkpoints)
            if seq.look(cps) is not None:
                host.kill_tree(proc)
                return "settled", "", tuple(cps)
            if now > criteria.budget_s:
                host.kill_tree(proc)
                return "budget", "", ()
        tree.changed.wait(limits.sample_interval_s)
        tree.changed.clear()


class _ExecLooks:
    """Sequential looks at an --exec cell, every --interval threads finished (or checkpoints
    printed): while the looks agree on `leak` or `ok` the sampler may stop the command at
    --threads; while they do not, the cell runs on (within --duration or --budget)."""

    def __init__(self, sampler, settings, log, seq):
        self.sampler, self.log, self.seq, self.criteria = sampler, log, seq, settings.criteria
        self.interval = settings.workload.effective_interval
        self.threads = settings.workload.threads
        self._next = self.interval
        if seq is None:  # --no-sequential: --threads is where it stops, whatever it shows
            sampler.release(True)

    def _progress(self):
        if self.log.checkpoints:
            return self.log.checkpoints[-1].get("done") or 0
        with self.sampler.tree.lock:
            return sum(p.finished for p in self.sampler.tree.procs)

    def look(self):
        done = self._progress()
        if self.seq is None or done < self._next:
            return
        while self._next <= done:
            self._next += self.interval
        if self.log.checkpoints:
            verdict = self.seq.judge(list(self.log.checkpoints)).verdict
        else:
            with self.sampler.tree.lock:
                found = subjects.collect(self.sampler.tree.procs)
            verdict = subjects.judge_subjects(found, self.seq.judge, self.criteria).verdict
        decided = self.seq.decided(verdict)
        self.sampler.release(decided)
        if decided and self.log.checkpoints and done >= self.threads:  # counted by itself
            self.sampler.tree.stop = ("threads", f"{done} threads done (--threads {self.threads})")


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
    child's environment (default: cell_env(cell.config)); `hook`: the exec_probe.Probe of an
    --exec cell whose target preloads the probe."""
    t_start = time.monotonic()
    if LIVE.stopping:
        return policy.Outcome(stop="interrupted")
    if env is None:
        try:
            env, _ = cell_env(cell.config, cell.target, cell.env)
        except ValueError as e:
            return policy.Outcome(stop="not_started", detail=str(e))
    seq = stats.Sequential(**settings.criteria.sequential_kw(settings.workload.looks)) \
        if policy.sequential(settings.criteria, cell.role) else None
    if seq is not None:
        stats.warm()  # before the program starts, not at its first look
    log = checkpoints.CheckpointLog()
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
    watcher = _start_sampler(proc, t0, cell, settings, hook, seq)
    try:
        stop, detail, settled_on = _watch(proc, watcher, settings, log, seq, t0, cell.role)
    finally:
        proc.wait()
        host.kill_tree(proc)  # whatever the program left behind in its group goes too
        LIVE.discard(proc)
        LIVE.discard(watcher.close())
        LIVE.sweep()  # and whatever escaped the group (setsid) and came back to us
    reader.join(timeout=5)
    err_reader.join(timeout=5)
    tail = err.get("tail", b"").decode("utf-8", "replace")[-STDERR_TAIL:]
    if LIVE.stopping:  # cut short by an interrupt: not a finished cell
        return policy.Outcome(stop="interrupted")
    tree = watcher.tree
    final = hook.final() if hook is not None else None
    found = subjects.collect(tree.procs, final) if cell.role == EXEC else ()
    return policy.Outcome(
        stop=stop, detail=detail, returncode=proc.returncode,
        checkpoints=tuple(log.checkpoints), samples=tuple(tree.samples), alloc=log.alloc,
        end=log.end, version_mismatch=log.version_mismatch, settled_on=settled_on,
        stderr_tail=tail, duration_s=round(time.monotonic() - t_start, 3),
        probe=exec_probe.record(final, found) if hook is not None else None,
        malformed=log.malformed, subjects=found, max_gap_s=tree.max_gap_s,
        exit_reading=platforms.get(cell.target.platform).describe_exit(proc.returncode, log.end))


def _start_sampler(proc, t0, cell, settings, hook, seq):
    """The cell's sampler: tlsleak_sampler where the target names one, with the probe's file
    and the caps; --threads for an --exec cell, released from the start without sequential
    judging."""
    def start(argv, **kwargs):
        started = LIVE.start(argv, **kwargs)
        if started is None:  # interrupted meanwhile: the cell is cut short anyway
            raise OSError("interrupted")
        return started
    exec_cell = cell.role == EXEC
    kw = dict(probe_file=hook.path, probe_lib=hook.library, preload=hook.preload) \
        if hook is not None else {}
    try:
        found = sampling.start(proc, t0, settings.limits, cell.target.sampler, start,
                               threads=settings.workload.threads if exec_cell else 0,
                               released=exec_cell and seq is None, **kw)
    except OSError:
        found = sampling.start(proc, t0, settings.limits)
    if hook is not None and found.process is None:  # sampled from here: nobody opens the gate
        probe.open_gate(hook.path)
    return found
