"""Series made shorter the same way everywhere: evenly, the first and the last point always
kept. One rule for the samples a cell keeps, the points a trend is fitted on and the rows a
view shows."""

from __future__ import annotations


def evenly(n: int, keep: int) -> list[int]:
    """Indices of at most `keep` (>= 2) of `n` points, evenly spread, the first and the last
    included, in order; every index when n <= keep."""
    if n <= keep:
        return list(range(n))
    step = (n - 1) / (keep - 1)
    return sorted({round(i * step) for i in range(keep)})


def thin(items, keep: int) -> list:
    """The items at evenly(len(items), keep)."""
    items = list(items)
    return [items[i] for i in evenly(len(items), keep)]


def halve(items: list) -> None:
    """Drop every other item in place, keeping the first and the latest: for a series that
    streams in and must stay under a bound (halve it each time it reaches twice the bound)."""
    items[:] = items[:-1:2] + items[-1:]
