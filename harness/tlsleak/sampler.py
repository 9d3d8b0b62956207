"""The sampler of one cell: every process of the command, sampled from outside without gaps
(docs/DESIGN.md "The sampler").

On Linux the sampling is done by `tlsleak_sampler` (probe/sampler.c), a process of its own
built with the probe: it walks the command's process tree every sample interval, pairs each
process's memory with its thread counts in the probe's file, stops the command itself past a
cap or at --threads, and streams records on a pipe. Here those records are only read, by a
thread that parses them into a `Tree`, so nothing the interpreter does (statistics, imports,
garbage collection, another cell's work) ever delays a sample. Where there is no such program
(a Windows cross-build's tree, a host without /proc), `PsutilSampler` samples the first
process from a thread and speaks the same records.

    sampler = sampler.start(proc, t0, settings.limits, tool, probe_file=...)
    ... sampler.tree.stop, sampler.tree.samples, sampler.tree.procs ...
    sampler.release(True)   # the cell may stop at --threads
    sampler.close()
"""
from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field

import psutil

from tlsleak.defaults import default
from tlsleak.host import current as host

SAMPLE_BUDGET = default("sample_budget")


def keep(items, item, budget=SAMPLE_BUDGET):
    """Append, halving evenly (first and latest kept) past 2 x budget: bounded memory."""
    items.append(item)
    if len(items) > 2 * budget:
        items[:] = items[:-1:2] + items[-1:]


_ESCAPE = re.compile(rb"%([0-9A-Fa-f]{2})")


def escape(text):
    """A command as the sampler writes it (see unescape)."""
    return "".join(chr(b) if 0x20 < b < 0x7f and b != 0x25 else "%%%02X" % b
                   for b in text.encode("utf-8", "replace"))


def unescape(text):
    """A command as the sampler writes it: %XX for a space, a control byte, % or non-ASCII."""
    raw = _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), text.encode("utf-8", "replace"))
    return raw.decode("utf-8", "replace").strip()


@dataclass
class Proc:
    """One process of the command, as sampled: its memory in time, and, when it has a slot in
    the probe's file, its memory paired with its threads finished (`points`)."""
    pid: int
    ppid: int = 0
    start: int = 0  # start time, clock ticks after boot (with pid: one process)
    command: str = ""
    first_t: float | None = None
    last_t: float | None = None
    gone_t: float | None = None
    slot: int | None = None  # its slot in the probe's file
    finished: int = 0  # threads finished, as its slot last said
    started: int = 0
    ended: int = 0  # its thread ids seen to vanish (the only count of an uncounted process)
    maps: int | None = None
    probe_mapped: bool | None = None
    preload_mapped: bool | None = None
    max_gap_s: float = 0.0
    n_samples: int = 0
    samples: list = field(default_factory=list)  # {"t", "rss", "vsize", "threads"}
    points: list = field(default_factory=list)  # paired: {"done", "rss", "vsize", ...}

    def add(self, t, rss, vsize, threads, ended, slot, fin0, fin1, started):
        if self.last_t is not None:
            self.max_gap_s = max(self.max_gap_s, t - self.last_t)
        if self.first_t is None:
            self.first_t = t
        self.last_t = t
        self.n_samples += 1
        self.ended = ended
        keep(self.samples, {"t": t, "rss": rss, "vsize": vsize, "threads": threads})
        if slot < 0:
            return
        self.slot, self.finished, self.started = slot, fin1, started
        # x: the mean of the counts read just before and just after the memory figure, one
        # point per count (the first): a slow program would otherwise give ties in x, and
        # what a process does after its last thread finished (exit, or being stopped at
        # --threads) is sampled at that count again and again, but is none of its threads'.
        cp = {"done": (fin0 + fin1 + 1) // 2, "rss": rss, "vsize": vsize,
              "os_threads": threads, "t_recv": t}
        if not self.points or self.points[-1]["done"] != cp["done"]:
            keep(self.points, cp)


class Tree:
    """What the sampler saw of one cell's processes; fed record by record (`feed`), read by
    the cell's own thread under `lock`."""

    def __init__(self, t0, threads=0):
        self.t0_ns = int(t0 * 1e9)  # the command's start, CLOCK_MONOTONIC
        self.threads = threads  # --threads, where the sampler stops an --exec command
        self.lock = threading.Lock()
        self.changed = threading.Event()
        self.procs = []  # every Proc, in the order first seen
        self._live = {}  # pid -> Proc
        self.samples = []  # the whole tree per sample: {"t", "rss", "vsize", "threads"[, "maps"]}
        self.max_gap_s = 0.0
        self.interval_s = None
        self.scheduling = None  # "realtime" where the sampler could take real-time priority
        self.stop = None  # (stop, detail) when the sampler stopped the command itself
        self.over = False
        self._pending = None  # the sample being read
        self._last_t = None

    def _t(self, t_ns):
        return round((int(t_ns) - self.t0_ns) / 1e9, 4)

    def feed(self, line):
        """Take one record line (see probe/sampler.c); an unreadable one is ignored."""
        words = line.split()
        if not words:
            return
        try:
            with self.lock:
                getattr(self, "_rec_" + words[0], self._rec_unknown)(words[1:])
        except (ValueError, IndexError):
            return
        self.changed.set()

    def _rec_unknown(self, args):
        pass

    def _rec_H(self, args):
        self.interval_s = int(args[1]) / 1e9
        self.scheduling = args[2] if len(args) > 2 else "normal"

    def _rec_N(self, args):
        pid, ppid, start = int(args[0]), int(args[1]), int(args[2])
        command = unescape(args[4]) if len(args) > 4 else ""
        proc = self._live.get(pid)
        if proc is None or proc.start != start:
            proc = Proc(pid=pid, ppid=ppid, start=start)
            self.procs.append(proc)
            self._live[pid] = proc
        proc.command = command  # after an exec: the new program

    def _rec_S(self, args):
        self._close_sample()
        t = self._t(args[0])
        if self._last_t is not None:
            self.max_gap_s = max(self.max_gap_s, t - self._last_t)
        self._last_t = t
        self._pending = {"t": t, "rss": 0, "vsize": 0, "threads": 0, "n": 0}

    def _rec_P(self, args):
        pid, rss, vsize, threads, ended, slot, fin0, fin1, started = map(int, args[:9])
        proc = self._live.get(pid)
        if proc is None or self._pending is None:
            return
        s = self._pending
        proc.add(s["t"], rss, vsize, threads, ended, slot, fin0, fin1, started)
        s["rss"] += rss
        s["vsize"] += vsize
        s["threads"] += threads
        s["n"] += 1

    def _rec_M(self, args):
        proc = self._live.get(int(args[0]))
        if proc is not None:
            proc.maps = int(args[1])
            if self._pending is not None:
                self._pending["maps"] = max(self._pending.get("maps", 0), proc.maps)

    def _rec_L(self, args):
        proc = self._live.get(int(args[0]))
        if proc is not None:
            proc.probe_mapped = {"1": True, "0": False}.get(args[1])
            proc.preload_mapped = {"1": True, "0": False}.get(args[2])

    def _rec_G(self, args):
        proc = self._live.pop(int(args[0]), None)
        if proc is not None:
            proc.gone_t = self._t(args[1])

    def _rec_X(self, args):
        self._close_sample()
        if args[0] == "threads":
            self.stop = ("threads", f"{args[1]} threads finished (--threads {self.threads})")
        else:
            self.stop = ("cap", cap_text(args[1], int(args[2]), int(args[3])))

    def _rec_E(self, args):
        self._close_sample()
        self.over = True

    def _close_sample(self):
        s, self._pending = self._pending, None
        if s is not None and s.pop("n"):  # a sample of no live process is no sample
            keep(self.samples, s)

    def finish(self):
        """The stream ended (end of file)."""
        with self.lock:
            self._close_sample()
            self.over = True
        self.changed.set()

    def snapshot(self):
        """[(Proc, its points)] of the processes that have a slot, copied under the lock."""
        with self.lock:
            return [(p, list(p.points)) for p in self.procs if p.points]


def cap_text(what, value, cap):
    """One line: which cap was broken, by how much."""
    words = {"rss": "RSS", "vsize": "virtual size", "maps": "memory mappings"}
    fmt = str if what == "maps" else (lambda n: f"{n / (1 << 20):.0f} MiB")
    return f"{words.get(what, what)} {fmt(value)} exceeded the cap {fmt(cap)}"


class _Reader:
    """Common part: a thread feeds the tree; `release` tells the sampler whether the command
    may be stopped at --threads."""

    def __init__(self, tree):
        self.tree = tree
        self._released = None

    def release(self, on):
        if on != self._released:
            self._released = on
            self._send("release" if on else "hold")

    def _send(self, word):
        pass

    def drain(self, timeout=2.0):
        """Wait (a little) for the records of a command that has ended."""
        self._thread.join(timeout)


class ProcessSampler(_Reader):
    """tlsleak_sampler, reading its records in a thread."""

    def __init__(self, proc, tree, argv, start_process):
        super().__init__(tree)
        self.process = start_process(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, **host.popen_kwargs())
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        for raw in self.process.stdout:
            self.tree.feed(raw.decode("utf-8", "replace"))
        self.tree.finish()

    def _send(self, word):
        try:
            self.process.stdin.write(word.encode() + b"\n")
            self.process.stdin.flush()
        except (OSError, ValueError):
            pass  # it ended: nothing to tell

    def close(self):
        """Wait for the last records (the sampler ends once the command's first process is
        gone), then stop it."""
        self._thread.join(timeout=2)
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._thread.join(timeout=2)
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        return self.process


class PsutilSampler(_Reader):
    """The first process only, sampled with psutil from a thread, in the sampler's records."""

    def __init__(self, proc, tree, interval_s, limits):
        super().__init__(tree)
        self._proc, self._interval, self._limits = proc, interval_s, limits
        self.process = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        feed, pid = self.tree.feed, self._proc.pid
        feed(f"H 1 {int(self._interval * 1e9)}")
        try:
            ps = psutil.Process(pid)
            command = escape(" ".join(ps.cmdline()))
            feed(f"N {pid} {os.getpid()} 0 {time.monotonic_ns()} {command}")
        except psutil.Error:
            ps = None
        n = 0
        while ps is not None and not self._stop.is_set() and self._proc.poll() is None:
            t = time.monotonic_ns()
            try:
                s = host.sample(ps)
            except psutil.Error:
                break
            feed(f"S {t}")
            feed(f"P {pid} {s['rss']} {s.get('vsize', 0)} {s['threads']} 0 -1 -1 -1 -1")
            if n % 10 == 0:
                maps = host.count_maps(pid)
                if maps is not None:
                    feed(f"M {pid} {maps}")
            broken = self._cap(s, maps if n % 10 == 0 else None)
            if broken:
                host.kill_tree(self._proc)
                feed("X cap %s %d %d" % broken)
                break
            n += 1
            self._stop.wait(self._interval)
        self.tree.finish()

    def _cap(self, s, maps):
        lim = self._limits
        for what, value, cap in (("rss", s["rss"], lim.max_rss),
                                 ("vsize", s.get("vsize"), lim.max_vsize),
                                 ("maps", maps, lim.max_maps)):
            if cap and value is not None and value > cap:
                return what, value, cap
        return None

    def close(self):
        self._stop.set()
        self._thread.join(timeout=5)
        return None


def start(proc, t0, limits, tool="", start_process=subprocess.Popen, *, probe_file="",
          probe_lib="", preload="", threads=0, released=False):
    """Sample `proc` (started at monotonic time t0) and its descendants: with the program
    `tool` (tlsleak_sampler) when there is one, else from a thread. `start_process` starts
    the sampler (runner.LIVE.start, so an interrupt stops it too). Caps from `limits`; the
    probe's file and libraries and --threads for an --exec cell."""
    tree = Tree(t0, threads)
    if not tool or not os.access(tool, os.X_OK):
        return PsutilSampler(proc, tree, limits.sample_interval_s, limits)
    argv = [tool, str(proc.pid), str(max(1, round(limits.sample_interval_s * 1e6)))]
    for opt, value in (("--probe", probe_file), ("--probe-lib", probe_lib),
                       ("--preload", preload), ("--max-rss", limits.max_rss),
                       ("--max-vsize", limits.max_vsize), ("--max-maps", limits.max_maps),
                       ("--threads", threads)):
        if value:
            argv += [opt, str(os.path.realpath(value) if opt in ("--probe-lib", "--preload")
                              else value)]
    if released:
        argv.append("--released")
    return ProcessSampler(proc, tree, argv, start_process)
