"""The search `tlsleak explore` runs: the pairwise design, each point under every chosen
configuration with the sequential detector (runner + policy, like `tlsleak run`), minimisation of
every leak, refinement around every leak (one dimension at a time), all within a time budget.

The budget is checked before each point; a point never starts once it is spent, and a point's
cells are given no more time than is left. Which points run, and in which order, follows from
the seed alone (design.pairwise, then the order leaks were found in).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from tlsleak import interrupts, policy, runner, signals

from . import design, minimise, space

PROGRAM = "explore_point"


class OutOfTime(Exception):
    """The budget is spent: no further point starts."""


@dataclass(frozen=True)
class Run:
    """One point under one configuration: its verdict, rate and the attribution that grew."""
    config: str  # configuration id
    label: str
    verdict: str
    rate: float | None  # B/thread (the deciding signal's slope)
    reason: str
    growing: frozenset = frozenset()
    duration_s: float = 0.0

    def to_dict(self):
        return {"config": self.config, "label": self.label, "verdict": self.verdict,
                "rate": None if self.rate is None else round(self.rate, 1),
                "reason": self.reason, "growing": sorted(self.growing),
                "duration_s": round(self.duration_s, 2)}


@dataclass
class Point:
    point: dict
    runs: list  # Run, in configuration order
    phase: str  # design, minimise or refine

    @property
    def signature(self):
        leaks = {r.config: minimise.Leak(r.rate, r.growing) for r in self.runs
                 if r.verdict == "leak" and r.rate is not None}
        return minimise.Signature.of(leaks) if leaks else None


@dataclass
class Search:
    """Everything one exploration ran and found."""
    seed: int
    dims: tuple
    design: list  # points, in order
    points: dict = field(default_factory=dict)  # key -> Point, in run order
    minimised: list = field(default_factory=list)  # minimise.Minimised
    unminimised: list = field(default_factory=list)  # leaking points the budget left as found
    stopped: str = ""  # why the search ended early ("" when it covered everything planned)
    covered: dict = field(default_factory=dict)  # phase -> (run, planned)


def _growing(verdict):
    """The allocator's own structures that grew (signals.TABLE role "attribution", alloc_*):
    the part of the signature that says which structure leaks. vsize, maps and the other shown
    signals wobble from run to run and would split one leak into several."""
    # policy.Verdict.attribution: "alloc_threads +1.00 structures/thread", ...
    names = (a.split()[0] for a in verdict.attribution)
    return frozenset(n for n in names
                     if getattr(signals.BY_NAME.get(n), "role", "") == "attribution")


class Explorer:
    """Runs points under configurations until the deadline (time.monotonic())."""

    def __init__(self, confs, settings, tgt, *, env=None, jobs=1, deadline=float("inf"),
                 progress=None, clock=time.monotonic):
        self.confs, self.settings, self.tgt = list(confs), settings, tgt
        self.env, self.jobs, self.deadline = dict(env or {}), jobs, deadline
        self.progress, self.clock = progress, clock
        self.points: dict = {}

    def left(self):
        return self.deadline - self.clock()

    def _run_one(self, point, config, settings):
        args = space.argv(point, threads=settings.workload.threads,
                          interval=settings.workload.effective_interval)
        cell = runner.program_cell(PROGRAM, args, config, self.tgt, env=self.env)
        outcome = runner.run_cell(cell, settings)
        v = policy.decide(outcome, settings.criteria, cell.expect, cell.role,
                          settings.workload.looks)
        return Run(config.id, config.label, v.verdict,
                   None if v.rate is None else float(v.rate.slope), v.reason, _growing(v),
                   outcome.duration_s)

    def run(self, point, phase):
        """The point's result, run under every configuration unless already run. OutOfTime
        when the budget is spent before it starts."""
        point = space.normalise(point)
        k = space.key(point)
        if k in self.points:
            return self.points[k]
        left = self.left()
        if left <= 0:
            raise OutOfTime
        # No cell may outlive the budget: its timeout and sequential budget are what is left.
        s = self.settings
        s = replace(s, limits=replace(s.limits, timeout_s=min(s.limits.timeout_s, left)),
                    criteria=replace(s.criteria, budget_s=min(s.criteria.budget_s, left)))
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            futures = [pool.submit(self._run_one, point, c, s) for c in self.confs]
            try:
                for _ in interrupts.as_completed(futures):
                    pass
            except KeyboardInterrupt:
                runner.LIVE.kill_all()  # the running cells end now, not at their budget
                raise
            runs = [f.result() for f in futures]
        if runner.LIVE.stopping:
            raise KeyboardInterrupt
        result = Point(point, runs, phase)
        self.points[k] = result
        if self.progress:
            self.progress(result)
        return result

    def oracle(self, phase):
        return lambda p: self.run(p, phase).signature


def neighbours(point, dims):
    """Points that differ from `point` in one dimension of `dims` (refinement), in order."""
    out = []
    for d in dims:
        for v in d.values:
            if v != point[d.name]:
                n = space.normalise({**point, d.name: v})
                if n != point and n not in out:
                    out.append(n)
    return out


def explore(explorer, *, seed, dims=space.DIMENSIONS, fixed=None):
    """Design, then minimise each new leak, then refine around every leak; returns a Search.
    `dims`: the dimensions varied; the others stay at `fixed` or their simplest value."""
    base = space.complete(fixed or {})
    plan = []
    for p in design.pairwise(seed, dims):
        n = space.normalise({**base, **p})
        if n not in plan:
            plan.append(n)
    s = Search(seed=seed, dims=tuple(d.name for d in dims), design=plan)
    s.points = explorer.points
    leaking = []

    def minimise_new(p):
        sig = explorer.points[space.key(p)].signature
        if any(minimise.same_signature(m.signature, sig) or m.point == p for m in s.minimised):
            return  # a leak already minimised (dedupe would merge it anyway)
        try:
            s.minimised.append(minimise.minimise(p, explorer.oracle("minimise"), signature=sig,
                                                 dims=dims))
        except OutOfTime:
            s.unminimised.append(p)
            raise

    try:
        for i, p in enumerate(plan):
            s.covered["design"] = (i, len(plan))
            if explorer.run(p, "design").signature is not None:
                leaking.append(p)
        s.covered["design"] = (len(plan), len(plan))
        for p in leaking:
            minimise_new(p)
        # Refinement: one dimension at a time from every leak, simplest leaks first.
        around = [m.point for m in s.minimised] + leaking
        todo = [n for p in around for n in neighbours(p, dims)]
        todo = list({space.key(n): n for n in todo}.values())
        for i, n in enumerate(todo):
            s.covered["refine"] = (i, len(todo))
            if explorer.run(n, "refine").signature is not None:
                minimise_new(n)
        s.covered["refine"] = (len(todo), len(todo))
    except OutOfTime:
        s.stopped = "budget spent"
    return s


def findings(search):
    """The de-duplicated findings (minimise.Finding), plus leaks the budget left unminimised as
    findings of their own (their point as found)."""
    rest = [minimise.Minimised(start=p, point=p,
                               signature=search.points[space.key(p)].signature)
            for p in search.unminimised]
    return minimise.dedupe(list(search.minimised) + rest)
