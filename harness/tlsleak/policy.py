"""The verdict policy: one pure function from what happened to a process (an Outcome, as the
runner saw it) to the cell's Verdict. No process, clock or file is touched here, so every rung
of the ladder is unit-tested with hand-made Outcomes (tests/unit/test_policy.py).

The ladder, most telling cause first: a timeout, a runaway past a cap, a crash or failing exit,
another checkpoint version, a wrong allocator, then the judgement of the memory signals.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from tlsleak import verdict as stats
from tlsleak.host import current as host

# Why the runner stopped a process (Outcome.stop).
STOPS = ("exited",       # it ended by itself
         "settled",      # sequential judging settled the verdict; the harness killed it
         "budget",       # sequential judging's time budget ran out; the harness killed it
         "timeout",      # no exit within the limit; killed
         "cap",          # past an RSS, address-space or mapping cap; killed (a runaway)
         "interrupted",  # the run was interrupted (SIGINT, SIGTERM): not a finished cell
         "not_started")  # it could not be started (detail says why)
# Stops where the harness itself killed the process: the signal that ended it was ours, so the
# results record `stopped_by_harness`, never a crash's exit code or signal.
STOPPED_BY_HARNESS = frozenset({"settled", "budget", "timeout", "cap"})


@dataclass(frozen=True)
class Outcome:
    """What happened to one process: everything the verdict depends on, nothing more."""
    stop: str = "exited"
    detail: str = ""  # one line: the cap broken, the timeout, why it could not start
    returncode: int | None = None  # negative: killed by that signal (POSIX)
    checkpoints: tuple = ()  # the `cp` records, dicts with t_recv
    samples: tuple = ()  # external samples, dicts with t, rss, threads, ...
    alloc: dict | None = None  # the `alloc` record
    end: dict | None = None  # the `end` record
    version_mismatch: str | None = None  # another checkpoint major version seen
    settled_at: int | None = None  # sequential: checkpoints seen when the verdict settled
    stderr_tail: str = ""
    duration_s: float = 0.0

    @property
    def threads_done(self):
        return self.checkpoints[-1].get("done") if self.checkpoints else None

    @property
    def signal(self):
        return -self.returncode if self.returncode is not None and self.returncode < 0 else None


@dataclass(frozen=True)
class Verdict:
    """A cell's verdict (verdict.VERDICTS), one-line reason, the deciding signal and its rate
    (None for crash/timeout/error), every judged signal, and what else grew."""
    verdict: str
    reason: str
    signal: str | None = None
    rate: stats.Rate | None = None
    signals: dict = field(default_factory=dict)  # name -> verdict.Judgement
    attribution: tuple = ()
    runaway: bool = False  # killed past a cap; the rate is what was measured until then
    stopped_early: bool = False  # sequential judging ended it


def sequential(criteria, role):
    """Whether a cell of this role is judged sequentially (a fault must run to its fault, and an
    arbitrary program's threads are unknown)."""
    return criteria.sequential and role not in ("exec", "fault")


def judge_memory(outcome, criteria, role="scenario", looks=40):
    """The judgement of the memory signals, as sequential judging saw it or over every
    checkpoint; external RSS added as a shown signal."""
    cps = list(outcome.checkpoints)
    if sequential(criteria, role):
        seq = stats.Sequential(looks=looks, **criteria.judge_kw())
        judged = seq.judge(cps[:outcome.settled_at] if outcome.settled_at else cps)
    else:
        judged = stats.judge_signals(cps, **criteria.judge_kw())
    timeline = [(c["t_recv"], c["done"]) for c in cps if c.get("t_recv") is not None]
    ext = stats.judge_external([(s["t"], s["rss"]) for s in outcome.samples if "rss" in s],
                               timeline, floor=criteria.floor, confidence=criteria.confidence,
                               warmup=criteria.warmup)
    return judged, {**judged.signals, stats.EXTERNAL: ext}


def allocator_problem(alloc, expect):
    """Why the process is not served by the configured allocator, or None."""
    if not expect:
        return None
    if alloc is None:
        return "the program reported no allocator (no 'alloc' line)"
    name = alloc.get("name")
    if name != expect:
        return (f"allocator check failed: configured {expect}, but malloc is served by {name} "
                f"(from {alloc.get('malloc_from', '?')})")
    if str(alloc.get("owns")) != "1":
        return f"allocator check failed: {expect} is loaded but does not own a fresh malloc block"
    return None


def growth_in_time(samples, criteria):
    """A program without checkpoints: its RSS growth per second, measured but not judged, since
    a per-thread verdict needs the number of threads it created."""
    samples = [s for s in samples if "rss" in s]
    t = [s["t"] for s in samples if s["t"] >= criteria.warmup * samples[-1]["t"]] if samples else []
    rate = stats.theil_sen(t, [s["rss"] for s in samples[-len(t):]],
                           confidence=criteria.confidence, unit="B/s") if len(t) >= 6 else None
    if rate is None:
        return Verdict("inconclusive", "no checkpoints and too few samples to measure growth")
    return Verdict("inconclusive", f"no TLSLEAK/1 checkpoints: RSS grows {rate.slope:.0f} B/s "
                   f"({rate.low:.0f}..{rate.high:.0f}); print checkpoints for a per-thread "
                   f"verdict", rate=rate)


def decide(outcome, criteria, expect="", role="scenario", looks=40):
    """The cell's Verdict from its Outcome, the judging Criteria and the allocator name the
    program must report (`expect`, "" when unknown in advance)."""
    if outcome.stop == "not_started":
        return Verdict("error", outcome.detail)
    judged, signals = judge_memory(outcome, criteria, role, looks)
    shown = dict(signals=signals, attribution=tuple(stats.attribution(judged)))
    memory = dict(signal=judged.signal, rate=judged.rate, **shown)
    cps = outcome.checkpoints
    after = f"after {outcome.threads_done or 0} threads"
    ours = outcome.stop in ("settled", "budget")  # sequential judging stopped it on purpose

    if outcome.stop == "timeout":
        return Verdict("timeout", f"{outcome.detail}; process group killed {after}", **shown)
    if outcome.stop == "cap":  # a runaway leak, with the rate measured so far
        return Verdict("leak", f"runaway: {outcome.detail}; process group killed {after}",
                       runaway=True, **memory)
    if not ours and outcome.returncode != 0:
        kind, text = host.describe_exit(outcome.returncode)
        return Verdict(kind, f"{text} (last checkpoint: {cps[-1]['done'] if cps else None} "
                       f"threads)", **shown)
    if outcome.version_mismatch:
        return Verdict("error", "the program speaks another checkpoint format version", **shown)
    problem = allocator_problem(outcome.alloc, expect)
    if problem is not None:
        return Verdict("error", problem, **shown)
    if ours:
        if outcome.settled_at:  # the threads it took, not those run before the kill landed
            after = f"after {cps[outcome.settled_at - 1].get('done')} threads"
        why = ("settled" if outcome.stop == "settled"
               else f"time budget {criteria.budget_s:g} s reached")
        return Verdict(judged.verdict, f"{judged.reason} ({why} {after})", stopped_early=True,
                       **memory)
    if role != "exec" and outcome.end is None:
        return Verdict("error", "the program exited without its 'end' line", **shown)
    if not cps and role == "exec":
        timed = growth_in_time(outcome.samples, criteria)
        return Verdict(timed.verdict, timed.reason, rate=timed.rate, **shown)
    if not cps:
        return Verdict("error", "the program printed no checkpoints", **shown)
    return Verdict(judged.verdict, judged.reason, **memory)
