"""The processes of an --exec cell, and which of them are judged (docs/DESIGN.md "The probe").

A command is a tree of processes (a wrapper script without `exec`, `sh -c`, a program that
forks or starts programs). Every process that finishes threads is a *subject*, judged on its
own: counted by the probe (its slot: memory against its threads finished, B/thread), or, where
no probe reaches it (a statically linked child), seen finishing threads only by its thread ids
vanishing from /proc (`tids`): those threads cannot be counted, so it is judged in time and
can never pass. A process that finishes no thread (the wrapper itself) is recorded, not judged.
A process that finished threads but was gone before it could be sampled enough is a subject
too: it was not measured, which keeps its cell from passing."""
from __future__ import annotations

from dataclasses import dataclass, field

from tlsleak import stats

COUNTED = "probe"  # threads counted by the probe in the process's slot
# Processes that finished no thread recorded per cell (the first ones: the wrapper among
# them), so a script that starts thousands keeps results.json small.
RECORDED = 100
SEEN = "tids"  # threads seen to end (thread ids vanishing), not counted


@dataclass(frozen=True)
class Subject:
    """One process of the command, as it was sampled."""
    pid: int
    command: str
    ppid: int = 0
    counted_by: str = ""  # COUNTED, SEEN, or "" (it finished no thread: recorded, not judged)
    threads: int = 0  # threads finished: the probe's count, or the thread ids seen to vanish
    points: tuple = ()  # memory paired with its threads finished (COUNTED)
    samples: tuple = ()  # its memory in time: {"t", "rss", "vsize", "threads"}
    max_gap_s: float = 0.0  # the largest gap between two of its samples
    lived_s: float = 0.0  # from its first sample to its last
    probe_mapped: bool | None = None  # the probe library in its memory map (None: not checked)
    preload_mapped: bool | None = None  # the override's library in its memory map

    @property
    def judged(self) -> bool:
        return bool(self.counted_by)

    def record(self) -> dict:
        """The results.json object of a process (docs/RESULTS.md "A cell", `subjects`), before
        its verdict is added."""
        return {"pid": self.pid, "ppid": self.ppid, "command": self.command,
                "counted_by": self.counted_by or None, "threads_finished": self.threads,
                "samples": len(self.samples), "max_gap_s": round(self.max_gap_s, 4),
                "lived_s": round(self.lived_s, 3), "preload_mapped": self.preload_mapped}


def _of_proc(proc, final_slot=None) -> Subject:
    finished = max(proc.finished, final_slot.finished if final_slot is not None else 0)
    counted = proc.slot is not None or final_slot is not None
    if counted and finished > 0:
        by, threads = COUNTED, finished
    elif not counted and proc.ended > 0:
        by, threads = SEEN, proc.ended
    else:
        by, threads = "", finished
    lived = (proc.last_t - proc.first_t) if proc.first_t is not None else 0.0
    return Subject(pid=proc.pid, command=proc.command, ppid=proc.ppid, counted_by=by,
                   threads=threads, points=tuple(proc.points), samples=tuple(proc.samples),
                   max_gap_s=proc.max_gap_s, lived_s=lived, probe_mapped=proc.probe_mapped,
                   preload_mapped=proc.preload_mapped)


def collect(procs, final=None) -> tuple:
    """Every process sampled (sampler.Proc, the command's first process first), with the counts
    the probe's file holds at the end (`final`, a probe.File, or None while it runs): a slot
    whose process was never sampled is a subject of its own, not measured."""
    slots = {} if final is None else {(c.pid, c.start): c for c in final.slots}
    by_pid = {pid: key for key in slots for pid in key[:1]}
    # A process sampled without its start time (psutil: start 0) is matched by its pid.
    out = [_of_proc(p, slots.pop((p.pid, p.start) if p.start else by_pid.get(p.pid), None))
           for p in procs]
    for c in slots.values():
        if c.finished > 0:
            out.append(Subject(pid=c.pid, command="?", ppid=c.parent, counted_by=COUNTED,
                               threads=c.finished))
    return tuple(out)


def growth_in_time(samples, criteria):
    """An --exec program whose threads are not counted (no checkpoints; the probe could not load,
    as in a static program, or no thread finished): its RSS sampled from outside against time,
    judged like a per-thread series (same rules: steady growth above the floor lasting to the
    end is a leak, flat or a plateau is ok) against the floor in B/s."""
    samples = [s for s in samples if "rss" in s]
    j = stats.judge_series([s["t"] for s in samples], [s["rss"] for s in samples],
                           name=stats.EXTERNAL, floor=criteria.time_floor,
                           confidence=criteria.confidence, warmup=criteria.warmup, per="s")
    if j.rate is None:
        return stats.CellJudgement("inconclusive", None, None, "no thread counts or "
                                   f"checkpoints, and too few samples to measure growth in "
                                   f"time ({j.reason})", {stats.EXTERNAL: j})
    return stats.CellJudgement(j.verdict, stats.EXTERNAL, j.rate, "no thread counts or "
                               f"checkpoints, judged in time: {j.reason}", {stats.EXTERNAL: j})




# How bad a verdict is, for the worst of several processes.
_RANK = {"ok": 0, "inconclusive": 1, "leak": 2}


@dataclass(frozen=True)
class SubjectVerdict:
    """One judged process of an --exec command."""
    subject: object  # subjects.Subject
    verdict: str
    reason: str
    signal: str | None = None
    rate: stats.Rate | None = None
    signals: dict = field(default_factory=dict)

    def record(self):
        """The results.json object of the process, with its verdict."""
        return {**self.subject.record(), "verdict": self.verdict, "reason": self.reason,
                "signal": self.signal, "rate": stats.rate_to_dict(self.rate)}


def judge_subject(subject, judge, criteria):
    """A process that finished threads: counted by the probe, judged per thread on its own
    memory; seen finishing threads it could not count (no probe in it), judged in time, and
    never ok: a leak per thread cannot be ruled out."""
    if subject.counted_by == COUNTED:
        if not subject.points:
            return SubjectVerdict(subject, "inconclusive", f"it finished {subject.threads} "
                                  f"threads but was not sampled (gone within "
                                  f"{subject.lived_s:.2f} s)")
        j = judge(list(subject.points))
        return SubjectVerdict(subject, j.verdict, j.reason, j.signal, j.rate, j.signals)
    timed = growth_in_time(subject.samples, criteria)
    why = (f"{subject.threads} of its threads were seen to end but none counted (the probe "
           f"is not in it: statically linked?)")
    if timed.verdict == "leak":
        return SubjectVerdict(subject, "leak", f"{timed.reason} ({why})", timed.signal,
                              timed.rate, timed.signals)
    return SubjectVerdict(subject, "inconclusive", f"{why}, so a leak per thread cannot be "
                          f"ruled out; {timed.reason}", timed.signal, timed.rate,
                          timed.signals)


@dataclass(frozen=True)
class TreeJudgement:
    """The judgement of every process of a command that finished threads: the worst of them
    decides (leak, then inconclusive, then ok)."""
    verdict: str
    reason: str
    decider: SubjectVerdict | None
    judged: tuple = ()  # SubjectVerdict of each subject

    @property
    def signal(self):
        return self.decider.signal if self.decider else None

    @property
    def rate(self):
        return self.decider.rate if self.decider else None


def judge_subjects(found, judge, criteria):
    """The worst of the subjects among `found` (subjects.Subject, the first process first),
    each judged by `judge` (a series of paired points -> stats.CellJudgement); inconclusive
    while none finished a thread."""
    judged = tuple(judge_subject(s, judge, criteria) for s in found if s.judged)
    if not judged:
        return TreeJudgement("inconclusive", "no process of the command finished a thread", None)
    worst = max(judged, key=lambda v: (_RANK[v.verdict], v.subject.threads))
    reason = worst.reason
    if len(found) > 1:
        s = worst.subject
        reason = f"process {s.pid} ({short(s.command)}): {reason}"
        if len(judged) > 1:
            reason += f" (the worst of {len(judged)} processes that finished threads)"
    return TreeJudgement(worst.verdict, reason, worst, judged)


def short(command, width=60):
    return command if len(command) <= width else command[:width - 3] + "..."


def exec_judgement(outcome, criteria, judge):
    """An --exec cell without checkpoints of its own (policy.Outcome): its subjects, each
    judged by `judge`, the worst deciding; where no process finished a thread, the memory in
    time of the processes that lived through the run. Returns (verdict, reason, signal, rate,
    signals, subject records, the deciding process's series)."""
    tree = judge_subjects(outcome.subjects, judge, criteria)
    others = [s for s in outcome.subjects if not s.judged]
    records = tuple(v.record() for v in tree.judged) + tuple(
        s.record() for s in others[:RECORDED])
    if tree.decider is None:
        timed = _in_time(outcome, criteria)
        return (timed.verdict, timed.reason, timed.signal, timed.rate, timed.signals, records,
                ())
    verdict, reason = tree.verdict, tree.reason
    overflow = (outcome.probe or {}).get("overflow") or 0
    if overflow and verdict == "ok":
        verdict, reason = "inconclusive", (f"{reason}; but {overflow} process(es) found the "
                                           f"probe's table full: their threads were not counted")
    d = tree.decider
    return (verdict, reason, d.signal, d.rate, d.signals, records,
            d.subject.points if d.subject.counted_by == COUNTED else ())


def _in_time(outcome, criteria):
    """No process finished a thread: the first process's memory in time, and that of every
    other that lived through most of the run (a child whose threads were not seen), the worst
    deciding; or the cell's own samples where nothing was sampled per process."""
    procs = outcome.subjects
    span = max((s.lived_s for s in procs), default=0.0)
    long_lived = [s for s in procs[1:] if s.samples and s.lived_s >= span / 2]
    series = [procs[0].samples] if procs and procs[0].samples else [outcome.samples]
    verdicts = [growth_in_time(samples, criteria) for samples in series + [
        s.samples for s in long_lived]]
    return max(verdicts, key=lambda v: _RANK.get(v.verdict, 1))
