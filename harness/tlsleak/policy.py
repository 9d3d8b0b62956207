"""The verdict policy: one pure function from what happened to a process (an Outcome, as the
runner saw it) to the cell's Verdict. No process, clock or file is touched here, so every rung
of the ladder is unit-tested with hand-made Outcomes (tests/unit/test_policy.py).

The ladder, most telling cause first: a timeout, a runaway past a cap, a crash or failing exit,
another checkpoint version, a wrong allocator, then the judgement of the memory signals.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from tlsleak import stats
from tlsleak.identity import allocator_problem, version_problem
from tlsleak.subjects import COUNTED, SEEN, exec_judgement, short
from tlsleak.vocab import EXEC, MEASURED, STOPPED_ON_PURPOSE
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
    probe: dict | None = None  # --exec: what the probe saw (exec_probe.record)
    subjects: tuple = ()  # --exec: every process of the command (subjects.Subject)
    max_gap_s: float | None = None  # the largest gap between two samples of the cell
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
    subjects: tuple = ()  # --exec: each process's record with its verdict (results.json)
    checkpoints: tuple = ()  # --exec: the series of the process that decided, when counted


def sequential(criteria, role):
    """Whether a cell of this role is judged sequentially (a fault must run to its fault). An
    --exec program is, once its threads are counted (its checkpoints, or the probe's)."""
    return criteria.sequential and role != "fault"


PLAN_DONE = ("exited", "threads")  # stops (vocab.STOPS) after which no thread was left to run


def at_its_end(outcome, criteria):
    """The criteria for judging `outcome`. The newest points are re-checked (growth that may be
    starting) in a verdict settled while the program ran, or when the harness cut it short in
    time (--budget, --duration); a program that ended by itself or ran its planned --threads,
    judged on every point, has no newer point to come: a rise at its very end (a pool joined
    before its last checkpoint, a library's clean-up once the last thread is joined) is no
    growth starting, and growth that started late and went on is the late-leak rule's
    (stats/series.py)."""
    if outcome.stop in PLAN_DONE and not outcome.settled_on:
        return replace(criteria, newest_share=0.0)
    return criteria


def judge_memory(outcome, criteria, role="scenario", looks=40):
    """The judgement of the memory signals, as sequential judging saw it or over every
    checkpoint; external RSS added as a shown signal."""
    criteria = at_its_end(outcome, criteria)
    cps = list(outcome.checkpoints)
    judge = judging(criteria, role, looks)
    judged = judge(list(outcome.settled_on) if outcome.settled_on else cps)
    timeline = [(c["t_recv"], c["done"]) for c in cps if c.get("t_recv") is not None]
    ext = stats.judge_external([(s["t"], s["rss"]) for s in outcome.samples if "rss" in s],
                               timeline, floor=criteria.floor, confidence=criteria.confidence,
                               warmup=criteria.warmup)
    return judged, {**judged.signals, stats.EXTERNAL: ext}


def judging(criteria, role, looks):
    """The function that judges a series of checkpoints: at the per-look confidence of
    sequential judging, or over every checkpoint."""
    if sequential(criteria, role):
        return stats.Sequential(**criteria.sequential_kw(looks)).judge
    return lambda cps: stats.judge_signals(cps, **criteria.judge_kw())



def exec_allocator_problem(outcome, expect, library=""):
    """Why an --exec command is not served by the configured override allocator, or None. Its
    `alloc` line decides when it prints one; else what the sampler saw in the processes that
    ran its threads (the subjects, not a wrapper): the allocator's library mapped in each
    (which, preloaded, puts its malloc ahead of libc's), and none out of the preload's reach."""
    if not expect or outcome.alloc is not None:
        return allocator_problem(outcome.alloc, expect, library)
    if outcome.probe is None:  # no probe on this target: nothing to check with
        return None
    found = outcome.subjects
    for s in found:
        where = f"process {s.pid} ({short(s.command)})" if len(found) > 1 else "the program"
        if s.counted_by == SEEN:
            return (f"allocator check failed: the preload never reached {where}, which "
                    f"finished threads (statically linked?), so {expect} cannot serve its "
                    f"malloc")
        if s.counted_by == COUNTED and s.preload_mapped is False:
            return f"allocator check failed: the {expect} library is not loaded in {where}"
    if not any(s.judged for s in found) and found:  # no thread: the first process tells
        first = found[0]
        if first.probe_mapped is False:
            return (f"allocator check failed: the preload never reached the program "
                    f"(statically linked?), so {expect} cannot serve its malloc")
        if first.preload_mapped is False:
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
    asked for (`version`, "" to skip that check). A measured verdict's reason says where the
    leak's real size is when RSS shows only part of it (stats.beyond_rss)."""
    v = _decide(outcome, criteria, expect, role, looks, library, route, version)
    note = stats.beyond_rss(v.signals) if v.verdict in MEASURED else None
    if note is None and v.runaway:  # killed before its signals could be judged
        note = stats.beyond_rss_between(outcome.checkpoints, criteria.floor)
    return replace(v, reason=f"{v.reason}; {note}") if note else v


def _decide(outcome, criteria, expect, role, looks, library, route, version):
    if outcome.stop == "not_started":
        return Verdict("error", outcome.detail)
    cps = outcome.checkpoints
    finished = outcome.threads_done or 0
    after = f"after {finished} threads"
    ours = outcome.stop in STOPPED_ON_PURPOSE
    by_tree = role == EXEC and not cps  # an --exec command judged by its processes
    if by_tree:
        ended = at_its_end(outcome, criteria)
        verdict, reason, signal, rate, signals, records, series = exec_judgement(
            outcome, ended, judging(ended, role, looks))
        judged = stats.CellJudgement(verdict, signal, rate, reason, signals)
        finished = sum(s.threads for s in outcome.subjects if s.judged)
        after = f"after {finished} threads" if finished else "without a thread counted"
        extra = dict(subjects=records, checkpoints=series)
    else:
        judged, signals = judge_memory(outcome, criteria, role, looks)
        extra = {}
    shown = dict(signals=signals, attribution=tuple(stats.attribution(judged)))
    memory = dict(signal=judged.signal, rate=judged.rate, **shown, **extra)
    shown.update(subjects=extra.get("subjects", ()))
    problem = _stopped(outcome, judged, shown, memory, after, finished)
    if problem is not None:
        return problem
    problem = (exec_allocator_problem(outcome, expect, library) if role == EXEC
               else allocator_problem(outcome.alloc, expect, library, route)) \
        or version_problem(outcome.alloc, expect, version)
    if problem is not None:
        return Verdict("error", problem, **shown)
    if ours:
        if outcome.settled_on:  # the threads it took, not those run before the kill landed
            after = f"after {outcome.settled_on[-1].get('done')} threads"
        why = {"settled": f"settled {after}",
               "budget": f"time budget {criteria.budget_s:g} s reached {after}",
               "threads": f"stopped: {outcome.detail}"}.get(outcome.stop,
                                                           f"stopped: {outcome.detail} {after}")
        return Verdict(judged.verdict, f"{judged.reason} ({why})",
                       stopped_early=outcome.stop in ("settled", "budget"), **memory)
    if role != EXEC and outcome.end is None:
        return Verdict("error", "the program exited without its 'end' line", **shown)
    if not cps and not by_tree:
        return Verdict("error", "the program printed no checkpoints", **shown)
    return Verdict(judged.verdict, judged.reason, **memory)


def _stopped(outcome, judged, shown, memory, after, finished):
    """The verdict of a process that did not end well (a timeout, a cap, a crash or failing
    exit, another checkpoint format), else None. A cap broken before any thread finished is
    no runaway leak at thread exit, whatever grew in time (a program that starts big)."""
    cps = outcome.checkpoints
    if outcome.stop == "timeout":
        return Verdict("timeout", f"{outcome.detail}; process group killed {after}", **shown)
    if outcome.stop == "cap" and not (finished and grew(judged, shown["signals"])):
        # Big but flat (or killed before any trend): past the cap, yet no leak was measured.
        return Verdict("inconclusive", f"{outcome.detail}, but no growth was measured; "
                       f"process group killed {after} (raise --max-rss?)", **shown)
    if outcome.stop == "cap":  # a runaway leak, with the rate measured so far
        return Verdict("leak", f"runaway: {outcome.detail}; process group killed {after}",
                       runaway=True, **memory)
    if outcome.stop not in STOPPED_ON_PURPOSE and outcome.returncode != 0:
        kind, text = outcome.exit_reading or host.describe_exit(outcome.returncode)
        return Verdict(kind, f"{text} (last checkpoint: {cps[-1]['done'] if cps else None} "
                       f"threads)", **shown)
    if outcome.version_mismatch:
        return Verdict("error", "the program speaks another checkpoint format version", **shown)
    return None
