"""The verdict policy: one pure function from what happened to a process (an Outcome, as the
runner saw it) to the cell's Verdict. No process, clock or file is touched here, so every rung
of the ladder is unit-tested with hand-made Outcomes (tests/unit/test_policy.py).

The ladder, most telling cause first: a timeout, a runaway past a cap, a crash or failing exit,
another checkpoint version, a wrong allocator, then the judgement of the memory signals.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from tlsleak import verdict as stats
from tlsleak.identity import allocator_problem, version_problem
from tlsleak.vocab import STOPPED_ON_PURPOSE
from tlsleak.host import current as host


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
    # Sequential: the checkpoints as judged when the verdict settled. Not an index into
    # `checkpoints`: those may be thinned again by what arrives before the kill lands.
    settled_on: tuple = ()
    stderr_tail: str = ""
    duration_s: float = 0.0
    probe: dict | None = None  # --exec: what the probe saw (exec_probe.Counter.record)
    malformed: int = 0  # TLSLEAK/1 lines that could not be read (counted, shown)
    # The platform's reading of a failing exit, ("crash" | "error", one line), where the
    # host's would be wrong (Wine: an exception code as the status); None = the host's.
    exit_reading: tuple | None = None

    @property
    def threads_done(self):
        return self.checkpoints[-1].get("done") if self.checkpoints else None

    @property
    def signal(self):
        return -self.returncode if self.returncode is not None and self.returncode < 0 else None


@dataclass(frozen=True)
class Verdict:
    """A cell's verdict (vocab.VERDICTS), one-line reason, the deciding signal and its rate
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
    """Whether a cell of this role is judged sequentially (a fault must run to its fault). An
    --exec program is, once its threads are counted (its checkpoints, or the probe's)."""
    return criteria.sequential and role != "fault"


def judge_memory(outcome, criteria, role="scenario", looks=40):
    """The judgement of the memory signals, as sequential judging saw it or over every
    checkpoint; external RSS added as a shown signal."""
    cps = list(outcome.checkpoints)
    if sequential(criteria, role):
        seq = stats.Sequential(looks=looks, **criteria.judge_kw())
        judged = seq.judge(list(outcome.settled_on) if outcome.settled_on else cps)
    else:
        judged = stats.judge_signals(cps, **criteria.judge_kw())
    timeline = [(c["t_recv"], c["done"]) for c in cps if c.get("t_recv") is not None]
    ext = stats.judge_external([(s["t"], s["rss"]) for s in outcome.samples if "rss" in s],
                               timeline, floor=criteria.floor, confidence=criteria.confidence,
                               warmup=criteria.warmup)
    return judged, {**judged.signals, stats.EXTERNAL: ext}


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
        return Verdict("inconclusive", "no thread counts or checkpoints, and too few samples to "
                       f"measure growth in time ({j.reason})", signals={stats.EXTERNAL: j})
    return Verdict(j.verdict, f"no thread counts or checkpoints, judged in time: {j.reason}",
                   signal=stats.EXTERNAL, rate=j.rate, signals={stats.EXTERNAL: j})


def exec_allocator_problem(outcome, expect, library=""):
    """Why an --exec program is not served by the configured override allocator, or None. Its
    `alloc` line decides when it prints one; else what the probe saw: the allocator's library
    mapped into the process (which, preloaded, puts its malloc ahead of libc's)."""
    if not expect or outcome.alloc is not None:
        return allocator_problem(outcome.alloc, expect, library)
    seen = outcome.probe
    if seen is None:  # no probe on this target: nothing to check with
        return None
    if not seen.get("claimed"):
        return (f"allocator check failed: the preload never reached the program (statically "
                f"linked?), so {expect} cannot serve its malloc")
    if seen.get("preload_mapped") is False:
        return f"allocator check failed: the {expect} library is not loaded in the program"
    return None


def grew(judged, signals):
    """Whether any signal measured growth: a slope whose whole interval is above zero."""
    rates = [judged.rate] + [getattr(j, "rate", None) for j in signals.values()]
    return any(r is not None and r.low > 0 for r in rates)


def decide_safely(outcome, criteria, expect="", role="scenario", looks=40, library="",
                  route="malloc", version=""):
    """decide(), but a judgement that raises is this cell's error, never the run's end."""
    try:
        v = decide(outcome, criteria, expect, role, looks, library, route, version)
    except Exception as e:  # one cell's odd data must not lose every other cell
        return Verdict("error", f"judging failed: {type(e).__name__}: {e}"[:300])
    if outcome.malformed:
        v = replace(v, reason=f"{v.reason}; {outcome.malformed} malformed TLSLEAK/1 line(s) "
                    f"ignored")
    return v


def decide(outcome, criteria, expect="", role="scenario", looks=40, library="", route="malloc",
           version=""):
    """The cell's Verdict from its Outcome, the judging Criteria, the allocator name the
    program must report (`expect`, "" when unknown in advance), the library it must come
    from (`library`, a shared library's path; "" to skip that check), how the program
    reaches it (`route`: malloc, or api for the allocator's own functions) and the version
    asked for (`version`, "" to skip that check)."""
    if outcome.stop == "not_started":
        return Verdict("error", outcome.detail)
    judged, signals = judge_memory(outcome, criteria, role, looks)
    shown = dict(signals=signals, attribution=tuple(stats.attribution(judged)))
    memory = dict(signal=judged.signal, rate=judged.rate, **shown)
    cps = outcome.checkpoints
    after = f"after {outcome.threads_done or 0} threads"
    ours = outcome.stop in STOPPED_ON_PURPOSE

    if outcome.stop == "timeout":
        return Verdict("timeout", f"{outcome.detail}; process group killed {after}", **shown)
    if outcome.stop == "cap" and not grew(judged, signals):
        # Big but flat (or killed before any trend): past the cap, yet no leak was measured.
        return Verdict("inconclusive", f"{outcome.detail}, but no growth was measured; "
                       f"process group killed {after} (raise --max-rss?)", **shown)
    if outcome.stop == "cap":  # a runaway leak, with the rate measured so far
        return Verdict("leak", f"runaway: {outcome.detail}; process group killed {after}",
                       runaway=True, **memory)
    if not ours and outcome.returncode != 0:
        kind, text = outcome.exit_reading or host.describe_exit(outcome.returncode)
        return Verdict(kind, f"{text} (last checkpoint: {cps[-1]['done'] if cps else None} "
                       f"threads)", **shown)
    if outcome.version_mismatch:
        return Verdict("error", "the program speaks another checkpoint format version", **shown)
    problem = (exec_allocator_problem(outcome, expect, library) if role == "exec"
               else allocator_problem(outcome.alloc, expect, library, route)) \
        or version_problem(outcome.alloc, expect, version)
    if problem is not None:
        return Verdict("error", problem, **shown)
    if not cps and role == "exec":
        timed = growth_in_time(outcome.samples, criteria)
        end = f" (stopped: {outcome.detail})" if ours else ""
        return Verdict(timed.verdict, timed.reason + end, signal=timed.signal, rate=timed.rate,
                       signals={**shown["signals"], **timed.signals},
                       attribution=shown["attribution"])
    if ours:
        if outcome.settled_on:  # the threads it took, not those run before the kill landed
            after = f"after {outcome.settled_on[-1].get('done')} threads"
        why = {"settled": "settled", "budget": f"time budget {criteria.budget_s:g} s reached",
               }.get(outcome.stop, f"stopped: {outcome.detail}")
        return Verdict(judged.verdict, f"{judged.reason} ({why} {after})",
                       stopped_early=outcome.stop in ("settled", "budget"), **memory)
    if role != "exec" and outcome.end is None:
        return Verdict("error", "the program exited without its 'end' line", **shown)
    if not cps:
        return Verdict("error", "the program printed no checkpoints", **shown)
    return Verdict(judged.verdict, judged.reason, **memory)
