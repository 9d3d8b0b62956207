"""A pairwise (all-pairs) covering design over the space: every value of every dimension meets
every value of every other dimension in at least one point, in far fewer points than the full
product (34 points instead of the 18432 of space.DIMENSIONS, with seed 1).

Greedy, in the manner of AETG (Cohen et al., IEEE TSE 1997): each new point starts from a pair
not covered yet and fills the other dimensions one by one with the value that covers most new
pairs; of several such candidates, the one covering most pairs is kept. Every random choice
comes from random.Random(seed) and every iteration is over sorted data (never a set's order,
which Python salts per process), so one seed always gives one design. Stdlib only.
"""

from __future__ import annotations

import random
from itertools import combinations

from . import space

CANDIDATES = 16  # points tried for each point kept


def _pairs(dims):
    """Every pair to cover, as ((i, value index), (j, value index)) with i < j."""
    out = set()
    for i, j in combinations(range(len(dims)), 2):
        for a in range(len(dims[i].values)):
            for b in range(len(dims[j].values)):
                out.add(((i, a), (j, b)))
    return out


def _covered_by(row):
    """The pairs one row (a tuple of value indices) covers."""
    return {((i, row[i]), (j, row[j])) for i, j in combinations(range(len(row)), 2)}


def _candidate(dims, uncovered, rng):
    first = rng.choice(sorted(uncovered))
    row = [None] * len(dims)
    (i, a), (j, b) = first
    row[i], row[j] = a, b
    rest = [k for k in range(len(dims)) if row[k] is None]
    rng.shuffle(rest)
    for k in rest:
        best, best_gain = [], -1
        for v in range(len(dims[k].values)):
            gain = 0
            for m, w in enumerate(row):
                if w is None:
                    continue
                pair = ((m, w), (k, v)) if m < k else ((k, v), (m, w))
                gain += pair in uncovered
            if gain > best_gain:
                best, best_gain = [v], gain
            elif gain == best_gain:
                best.append(v)
        row[k] = rng.choice(best)
    return tuple(row)


def pairwise(seed: int, dims=space.DIMENSIONS) -> list:
    """The covering design for `seed`: a list of points (dicts), each pair of values of each two
    dimensions in at least one of them."""
    dims = tuple(dims)
    if len(dims) == 1:  # no pairs to cover: each value once
        return [{dims[0].name: v} for v in dims[0].values]
    rng = random.Random(seed)
    uncovered = _pairs(dims)
    rows = []
    while uncovered:
        best, best_gain = None, -1
        for _ in range(CANDIDATES):
            row = _candidate(dims, uncovered, rng)
            gain = len(_covered_by(row) & uncovered)
            if gain > best_gain:
                best, best_gain = row, gain
        rows.append(best)
        uncovered -= _covered_by(best)
    return [{d.name: d.values[v] for d, v in zip(dims, row)} for row in rows]


def uncovered_pairs(points, dims=space.DIMENSIONS) -> list:
    """Pairs of (dimension, value) that no point has both of: [] for a covering design."""
    dims = tuple(dims)
    missing = []
    for i, j in combinations(range(len(dims)), 2):
        seen = {(p[dims[i].name], p[dims[j].name]) for p in points}
        for a in dims[i].values:
            for b in dims[j].values:
                if (a, b) not in seen:
                    missing.append(((dims[i].name, a), (dims[j].name, b)))
    return missing
