"""Sequential judging: decide while the checkpoints arrive. Each look is judged at a
Bonferroni-corrected confidence over the looks the run plans, and a verdict is settled when
`agree` consecutive looks give the same `leak` or `ok`.

`leak` settles only once `horizon` of the planned looks is in. Until a bounded cache stops
growing its growth is as linear as a leak's, so no rule on the data alone can tell them apart
early: a cache that fills over the first half of a run (faulty's `fill`: 5000 of 10000 threads)
must have had the chance to show its plateau. At 0.85 the last half of the post-warm-up window
starts past 0.6 x 0.85 = 51% of the threads. `ok` is not held back, but it is re-checked
against the newest points at every look (series.newest_rise): a look whose newest points jump
is not `ok`, so an `ok` never settles while the last checkpoints rise.

An --exec program has no plan of its own: its cell is never settled early. The harness asks
`decided` whether the looks so far agree, to let the cell stop at --threads, and judges it
again over everything it saw once it stopped."""
from __future__ import annotations

from typing import Sequence

from tlsleak.defaults import default
from tlsleak.stats.cell import DECIDING, DEFAULT_STATS_FLOOR, CellJudgement, judge_signals
from tlsleak.stats.series import (DEFAULT_CONFIDENCE, DEFAULT_FLOOR, DEFAULT_WARMUP, MIN_POINTS,
                                  NEWEST, Judgement)

LEAK_HORIZON = default("leak_horizon")
AGREE = default("agree")


def look_confidence(confidence: float, looks: int) -> float:
    """The confidence each look must reach so that, over `looks` planned looks, the chance of
    any wrong early verdict stays within 1 - confidence (Bonferroni)."""
    return 1.0 - (1.0 - confidence) / max(1, looks)


def tail_agrees(j: Judgement) -> bool:
    """Whether the last half's trend is the trend overall, not the last step of a growth that
    comes in large steps: their slope intervals overlap, or (a long series measures both to a
    few bytes) the last half's slope is within a factor of two of the whole window's."""
    if j.rate is None or j.tail is None:
        return False
    overlap = j.tail.low <= j.rate.high and j.rate.low <= j.tail.high
    return overlap or (j.rate.slope > 0 and 0.5 <= j.tail.slope / j.rate.slope <= 2.0)


class Sequential:
    """Judges a cell at each new checkpoint and says when its verdict is settled: `leak` or `ok`
    at the per-look confidence, the same on `agree` consecutive looks; `leak` only past
    `horizon` of the planned looks, and only where the deciding signal's last half agrees with
    its whole window (tail_agrees; otherwise the look is inconclusive)."""

    def __init__(self, *, floor: float = DEFAULT_FLOOR, confidence: float = DEFAULT_CONFIDENCE,
                 warmup: float = DEFAULT_WARMUP, looks: int = 40, agree: int = AGREE,
                 deciding: Sequence[str] = DECIDING, min_points: int = MIN_POINTS,
                 stats_floor: float = DEFAULT_STATS_FLOOR, horizon: float = LEAK_HORIZON,
                 newest: float = NEWEST):
        self.kw = dict(floor=floor, confidence=look_confidence(confidence, looks),
                       warmup=warmup, deciding=deciding, min_points=min_points,
                       stats_floor=stats_floor, newest=newest)
        self.agree = agree
        self.looks = looks
        self.horizon = horizon
        self._streak: list[str] = []

    def judge(self, checkpoints) -> CellJudgement:
        j = judge_signals(checkpoints, **self.kw)
        if j.verdict == "leak" and not tail_agrees(j.signals[j.signal]):
            return CellJudgement("inconclusive", j.signal, j.rate, j.reason + "; but the last "
                                 "half's trend disagrees with the whole window's (growth in "
                                 "steps?)", j.signals)
        return j

    def decided(self, verdict: str) -> bool:
        """Count one look's verdict; whether the last `agree` looks all said this `leak` or
        `ok`."""
        self._streak = (self._streak + [verdict])[-self.agree:]
        return (len(self._streak) == self.agree and len(set(self._streak)) == 1
                and verdict in ("leak", "ok"))

    def look(self, checkpoints) -> CellJudgement | None:
        """The settled judgement, or None while the data cannot decide yet."""
        checkpoints = list(checkpoints)
        j = self.judge(checkpoints)
        if not self.decided(j.verdict):
            return None
        if j.verdict == "leak" and len(checkpoints) - 1 < self.horizon * self.looks:
            return None
        return j
