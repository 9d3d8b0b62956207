"""The search `tlsleak explore` runs: the pairwise design, each point under every chosen
configuration (one cell each, through the cell pipeline every command uses: pipeline.run_cells,
with the allocator, version and probe checks and the sequential detector), minimisation of every
leak, refinement around every leak (one dimension at a time), all within a time budget.

The budget is checked before each point; a point never starts once it is spent, and a point's
cells are given no more time than is left. Which points run, and in which order, follows from
the seed alone (design.pairwise, then the order leaks were found in). An interrupt ends the
search with every point that finished (a point is kept whole or not at all) and every leak found
so far, minimised or as found.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from tlsleak import pipeline, signals

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

    @classmethod
    def from_record(cls, rec):
        """The Run of one cell's results record (results.cell_record)."""
        rate = rec.get("rate") or {}
        return cls(rec["allocator"]["id"], rec["config"], rec["verdict"], rate.get("value"),
                   rec["reason"], _growing(rec.get("attribution") or ()),
                   rec.get("duration_s") or 0.0)

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
    # Leaking points not minimised: found and not yet minimised, or left as found by the
    # budget or an interrupt.
    unminimised: list = field(default_factory=list)
    stopped: str = ""  # why the search ended early ("" when it covered everything planned)
    covered: dict = field(default_factory=dict)  # phase -> (run, planned)
    interrupted: bool = False  # an interrupt ended it: what finished is kept


def _growing(attribution):
    """The allocator's own structures that grew (signals.TABLE role "attribution", alloc_*):
    the part of the signature that says which structure leaks. vsize, maps and the other shown
    signals wobble from run to run and would split one leak into several."""
    # a cell's attribution: "alloc_threads +1.00 structures/thread", ...
    names = (a.split()[0] for a in attribution)
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

    def _run_point(self, point, settings):
        """The point's Run under every configuration, in configuration order, each a cell of
        the pipeline. KeyboardInterrupt when an interrupt cut the point short."""
        args = space.argv(point, threads=settings.workload.threads,
                          interval=settings.workload.effective_interval)
        cells = [pipeline.program_cell(PROGRAM, args, c, self.tgt, env=self.env)
                 for c in self.confs]
        records, interrupted = pipeline.run_cells(cells, settings, self.jobs,
                                                  show_progress=False)
        if interrupted:
            raise KeyboardInterrupt
        return [Run.from_record(r) for r in records]

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
        result = Point(point, self._run_point(point, s), phase)
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


def _design(seed, dims, fixed):
    """The design's points, normalised and without repeats, the other dimensions at `fixed`
    or their simplest value."""
    base = space.complete(fixed or {})
    plan = []
    for p in design.pairwise(seed, dims):
        n = space.normalise({**base, **p})
        if n not in plan:
            plan.append(n)
    return plan


def explore(explorer, *, seed, dims=space.DIMENSIONS, fixed=None, save=None):
    """Design, then minimise each new leak, then refine around every leak; returns a Search.
    `dims`: the dimensions varied; the others stay at `fixed` or their simplest value.
    `save(search)` is called after every point that finished (the findings written as they
    come). The budget or an interrupt ends it early (Search.stopped, Search.interrupted) with
    every point that finished and every leak found."""
    s = Search(seed=seed, dims=tuple(d.name for d in dims), design=_design(seed, dims, fixed))
    s.points = explorer.points
    shown = explorer.progress

    def changed(point=None):
        if point is not None and shown is not None:
            shown(point)
        if save is not None:
            save(s)
    explorer.progress = changed  # every point run
    try:
        _search(explorer, s, dims, changed)
    except OutOfTime:
        s.stopped = "budget spent"
    except KeyboardInterrupt:
        s.stopped, s.interrupted = "interrupted", True
    finally:
        explorer.progress = shown
    return s


def _search(explorer, s, dims, changed):
    """The phases, in order; `changed()` after each change of the findings."""
    def found(p, phase):
        if explorer.run(p, phase).signature is not None:
            s.unminimised.append(p)  # until minimise_new takes it
            changed()
            return True
        return False

    def minimise_new(p):
        sig = explorer.points[space.key(p)].signature
        if any(minimise.same_signature(m.signature, sig) or m.point == p for m in s.minimised):
            s.unminimised.remove(p)  # a leak already minimised (dedupe would merge it anyway)
            return
        m = minimise.minimise(p, explorer.oracle("minimise"), signature=sig, dims=dims)
        s.unminimised.remove(p)
        s.minimised.append(m)
        changed()

    leaking = []
    for i, p in enumerate(s.design):
        s.covered["design"] = (i, len(s.design))
        if found(p, "design"):
            leaking.append(p)
    s.covered["design"] = (len(s.design), len(s.design))
    for p in leaking:
        minimise_new(p)
    # Refinement: one dimension at a time from every leak, simplest leaks first.
    around = [m.point for m in s.minimised] + leaking
    todo = [n for p in around for n in neighbours(p, dims)]
    todo = list({space.key(n): n for n in todo}.values())
    for i, n in enumerate(todo):
        s.covered["refine"] = (i, len(todo))
        if found(n, "refine"):
            minimise_new(n)
    s.covered["refine"] = (len(todo), len(todo))


def findings(search):
    """The de-duplicated findings (minimise.Finding), plus leaks not minimised (not yet, or
    left so by the budget or an interrupt) as findings of their own (their point as found)."""
    rest = [minimise.Minimised(start=p, point=p,
                               signature=search.points[space.key(p)].signature)
            for p in search.unminimised]
    return minimise.dedupe(list(search.minimised) + rest)
