"""Minimise a leaking point, and deduplicate findings, against an oracle.

The oracle is a function point -> Signature, or None when the point does not leak anywhere;
`tlsleak explore` builds it by running explore_point under every chosen configuration with the
sequential detector. Here it is only called, so the logic is tested with a fake one.

A signature is what a maintainer would call "the same bug": the same configurations leak, each
at a rate within a factor of two, and, where the allocator attributes its memory (alloc_*
checkpoint fields), the same attribution signals grow. Minimisation moves one dimension at a
time towards its simpler values (space.Dimension.values is ordered simplest first) and keeps a
move when the leak keeps its signature, until no move is kept. Stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import space

RATE_FACTOR = 2.0


@dataclass(frozen=True)
class Leak:
    """One configuration's leak: bytes per thread and the attribution signals that grew."""

    rate: float
    growing: frozenset = frozenset()


@dataclass(frozen=True)
class Signature:
    """config id -> Leak, for every configuration where the point leaks."""

    leaks: tuple  # ((config, Leak), ...) sorted by config

    @classmethod
    def of(cls, leaks: dict) -> "Signature":
        return cls(tuple(sorted(leaks.items())))

    @property
    def configs(self) -> tuple:
        return tuple(c for c, _ in self.leaks)

    def as_dict(self) -> dict:
        return dict(self.leaks)


def same_signature(ref: Signature, other: Signature | None, factor: float = RATE_FACTOR) -> bool:
    """Whether `other` is the leak of `ref`: same configurations, each rate within `factor` of
    ref's, and the same attribution signals growing where ref has any."""
    if other is None or ref.configs != other.configs:
        return False
    theirs = other.as_dict()
    for config, leak in ref.leaks:
        o = theirs[config]
        if leak.rate <= 0 or o.rate <= 0:
            return False
        if not (1.0 / factor <= o.rate / leak.rate <= factor):
            return False
        if leak.growing and o.growing != leak.growing:
            return False
    return True


@dataclass
class Step:
    """One oracle question: the point tried, its signature (None: no leak) and whether the
    minimiser kept it."""

    point: dict
    signature: Signature | None
    kept: bool


@dataclass
class Minimised:
    start: dict
    point: dict
    signature: Signature
    steps: list = field(default_factory=list)

    @property
    def calls(self) -> int:
        return len(self.steps)


def _simpler(dim: space.Dimension, value) -> list:
    """The values of `dim` simpler than `value`, simplest first."""
    return list(dim.values[:dim.values.index(value)])


def minimise(point: dict, oracle, *, signature: Signature | None = None,
             dims=space.DIMENSIONS, normalise=space.normalise) -> Minimised:
    """The simplest point reachable from `point`, one dimension at a time, that still leaks
    with the signature of `point` (asked of the oracle unless given). ValueError when `point`
    does not leak. Each distinct point is asked at most once."""
    start = normalise(point)
    asked: dict = {}
    steps: list = []

    def ask(p):
        k = space.key(p)
        if k not in asked:
            asked[k] = oracle(dict(p))
            steps.append(Step(dict(p), asked[k], False))
        return asked[k]

    ref = signature if signature is not None else ask(start)
    if ref is None:
        raise ValueError("the point does not leak: %s" % space.key(start))
    current = start
    changed = True
    while changed:
        changed = False
        for dim in dims:
            for value in _simpler(dim, current[dim.name]):
                candidate = normalise({**current, dim.name: value})
                if candidate == current:
                    continue
                if same_signature(ref, ask(candidate)):
                    current = candidate
                    changed = True
                    for step in steps:
                        step.kept = step.kept or step.point == candidate
                    break
    return Minimised(start=start, point=current, signature=ref, steps=steps)


@dataclass
class Finding:
    """A minimised leak, with the other findings that had the same signature."""

    minimised: Minimised
    duplicates: list = field(default_factory=list)  # Minimised


def dedupe(results, factor: float = RATE_FACTOR) -> list:
    """Findings from minimised results, in order: a result whose minimised point equals an
    earlier finding's, or whose signature matches it, joins that finding as a duplicate."""
    findings: list = []
    for r in results:
        for f in findings:
            m = f.minimised
            if r.point == m.point or same_signature(m.signature, r.signature, factor):
                f.duplicates.append(r)
                break
        else:
            findings.append(Finding(r))
    return findings
