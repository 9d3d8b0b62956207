"""The verdict on one series (x = threads done, y = a footprint), after a warm-up (points with
x < warmup * final x are dropped), against a floor F (units/thread) at confidence c.

  leak          CI low > F, and the trend persists to the end: the Theil-Sen slope over the
                last half of the post-warm-up points is also > F. Or growth that started late
                and lasts: the last half grows with CI low > F (or, the whole window growing
                too, at more than twice its pace), and its own last half (the last quarter)
                still grows above F at the same pace (slopes within a factor of 1.5: the
                growth went on through most of the last half), with no single rise making
                half of the last half's growth; its rate is the last half's.
  ok            CI high < F ("flat"), or the last-half CI high < F ("plateau": growth that
                stopped; a cache that fills is not a leak), with three guards that make it
                inconclusive:
                - late growth: the last half alone grows with CI low > F (a leak when it
                  lasts, see above; else inconclusive);
                - coarse steps (plateau only): the largest rise between two consecutive points
                  (a step of quantized memory, e.g. a 2 MiB huge page) exceeds F times the
                  last half's span of threads, so a leak of F per thread could have stayed
                  hidden inside one step there;
                - the newest points (the last `newest` share of them) rise above every older
                  point's distance from the trend by more than F over the threads they span:
                  growth that started at the very end, which a robust slope does not see yet.
  inconclusive  otherwise; also with fewer than `min_points` points after the warm-up, or no
                spread in x.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from tlsleak import signals
from tlsleak.defaults import default
from tlsleak.numtext import num, percent
from tlsleak.stats.trend import Rate, theil_sen

DEFAULT_FLOOR = default("floor")
DEFAULT_CONFIDENCE = default("confidence")
DEFAULT_WARMUP = default("warmup")
MIN_POINTS = default("min_points")
NEWEST = default("newest_share")


@dataclass(frozen=True)
class Judgement:
    """The verdict on one series ("ok", "leak" or "inconclusive"), the trend after the warm-up
    (None when there was none to compute) and a short human reason."""

    verdict: str
    rate: Rate | None
    reason: str
    tail: Rate | None = None  # trend over the last half of the post-warm-up points

    def to_dict(self) -> dict:
        """The results.json form of a signal: verdict, rate (or null), reason."""
        rate = None if self.rate is None else self.rate.to_dict()
        return {"verdict": self.verdict, "rate": rate, "reason": self.reason}


def ci_text(rate: Rate) -> str:
    return "%s CI %s..%s" % (percent(rate.confidence), num(rate.low), num(rate.high))


def size_text(v: float, unit: str) -> str:
    if unit != "B":
        return "%s %s" % (num(v), unit)
    for div, suffix in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if abs(v) >= div:
            return "%.1f %s" % (v / div, suffix)
    return "%.0f B" % v


def newest_rise(x: np.ndarray, y: np.ndarray, rate: Rate, floor: float, share: float) -> float:
    """How far the newest points (those in the last `share` of the span of x, at least one)
    rise above the trend by more than any older point does, less what a growth of `floor` per
    x would add over the span they cover; 0 when they do not (or `share` is 0, or there are
    too few points). The share is of x, not of the points: where the newest points are the
    densest (a series thinned from its oldest end), a share of the points spans few threads,
    and one page-sized step of an allocator would read as growth starting."""
    n = len(x)
    if share <= 0 or n < 3:
        return 0.0
    cut = x[-1] - share * (x[-1] - x[0])
    k = max(1, int(np.count_nonzero(x > cut)))
    if n - k < 2:
        return 0.0
    residual = y - (rate.intercept + rate.slope * x)
    band = max(0.0, float(np.max(residual[:n - k])))
    span = float(x[-1] - x[n - k - 1])
    return max(0.0, float(np.max(residual[n - k:])) - band - floor * span)


def _points(x, y, warmup):
    """The finite points sorted by x, those of the warm-up dropped; and the final x (None when
    no point is finite)."""
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xa.shape != ya.shape:
        raise ValueError("x and y differ in length (%d, %d)" % (len(xa), len(ya)))
    finite = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[finite], ya[finite]
    if len(xa) == 0:
        return xa, ya, None
    order = np.argsort(xa, kind="stable")
    xa, ya = xa[order], ya[order]
    final = float(xa[-1])
    keep = xa >= warmup * final if final > 0 else np.ones(len(xa), dtype=bool)
    return xa[keep], ya[keep], final


def judge_series(x: Sequence[float], y: Sequence[float], *, name: str = "rss",
                 floor: float = DEFAULT_FLOOR, confidence: float = DEFAULT_CONFIDENCE,
                 warmup: float = DEFAULT_WARMUP, min_points: int = MIN_POINTS,
                 per: str = "thread", newest: float = NEWEST) -> Judgement:
    """Judge one series (x = threads done, y = the signal) against `floor` (units/thread).
    per="s": x is seconds instead (a program whose threads are not counted), floor in units/s."""
    xa, ya, final = _points(x, y, warmup)
    if final is None:
        return Judgement("inconclusive", None, "%s: no points" % name)
    n = len(xa)
    if n < min_points:
        return Judgement("inconclusive", None,
                         "%s: only %d points after the warm-up (need %d)" % (name, n, min_points))
    if np.ptp(xa) == 0:
        return Judgement("inconclusive", None,
                         "%s: threads done does not vary (all %s)" % (name, num(final)))
    unit = signals.unit(name)
    rate = theil_sen(xa, ya, confidence=confidence, unit=unit + "/" + per)
    if rate is None:
        return Judgement("inconclusive", None, "%s: no trend could be computed" % name)
    tail = theil_sen(xa[n // 2:], ya[n // 2:], confidence=confidence, unit=unit + "/" + per)
    return _Rules(name, unit, per, floor, rate, tail, xa, ya, newest).verdict()


class _Rules:
    """The rules of the module docstring, applied to one fitted series."""

    def __init__(self, name, unit, per, floor, rate, tail, xa, ya, newest):
        self.name, self.unit, self.floor, self.rate, self.tail = name, unit, floor, rate, tail
        self.step = "threads" if per == "thread" else "seconds"
        self.per = "%s/%s" % (unit, per)
        n = len(xa)
        # Memory often grows in steps (pages, huge pages, allocator segments). A flat last half
        # only shows that growth stopped if, at the floor rate, it was long enough to cross the
        # largest step seen: quantum <= floor * span.
        self.quantum = max(0.0, float(np.max(np.diff(ya))))
        self.tail_span = float(np.ptp(xa[n // 2:]))
        self.coarse = self.quantum > floor * self.tail_span
        self.flat_tail = tail is not None and tail.high < floor
        self.late = tail is not None and tail.low > floor
        self.rise = newest_rise(xa, ya, rate, floor, newest)
        # Whether growth that started late goes on: the last quarter's trend, and the largest
        # single rise within the last half (growth in one step is no steady growth).
        growing = tail is not None and tail.slope > floor and n - 3 * n // 4 >= 3
        self.end = theil_sen(xa[3 * n // 4:], ya[3 * n // 4:], confidence=rate.confidence,
                             unit=rate.unit) if growing else None
        self.tail_quantum = max(0.0, float(np.max(np.diff(ya[n // 2:])))) if growing else 0.0

    def _j(self, verdict, text, *args):
        return Judgement(verdict, self.rate, text % args, self.tail)

    def _ok(self, text, *args):
        """ok, unless the newest points rise above the trend (growth starting at the end)."""
        if self.rise > 0:
            return self._j("inconclusive", text + ", but the newest points rise %s above the "
                           "trend: growth may be starting", *args,
                           size_text(self.rise, self.unit))
        return self._j("ok", text, *args)

    def verdict(self) -> Judgement:
        r, fl, nm = self.rate, "floor %s" % num(self.floor), self.name
        grows = (nm, num(r.slope), self.per, ci_text(r), fl)
        tail = self.tail
        tail_txt = ("last half %s %s (%s)" % (num(tail.slope), self.per, ci_text(tail))
                    if tail is not None else "last half has no trend")
        if r.low > self.floor:
            if tail is not None and tail.slope > 2 * r.slope and self._goes_on():
                return self._late_leak()  # steeper at the end: it started late, and goes on
            if tail is not None and tail.slope > self.floor:
                return self._j("leak", "%s grows %s %s (%s) > %s", *grows)
            if self.flat_tail and not self.coarse:
                return self._ok("%s plateau: grew %s %s (%s), %s < %s", nm, num(r.slope),
                                self.per, ci_text(r), tail_txt, fl)
            why = self._coarse_note() if self.flat_tail else "growth may be stopping"
            return self._j("inconclusive", "%s grows %s %s (%s) > %s, but %s: %s",
                           *grows, tail_txt, why)
        if r.high < self.floor and not self.late:
            return self._ok("%s flat: %s %s (%s) < %s", *grows)
        if self.flat_tail and not self.coarse:
            return self._ok("%s plateau: %s %s overall (%s), %s < %s", nm, num(r.slope),
                            self.per, ci_text(r), tail_txt, fl)
        if self.late and self._goes_on():
            return self._late_leak()
        if self.late:
            return self._j("inconclusive", "%s %s %s overall (%s), but %s > %s: growth may "
                           "have started late", nm, num(r.slope), self.per, ci_text(r),
                           tail_txt, fl)
        note = ": " + self._coarse_note() if self.flat_tail else ""
        return self._j("inconclusive", "%s %s %s (%s) straddles %s%s", *grows, note)

    def _goes_on(self) -> bool:
        """Growth that started late (the last half grows above the floor) lasts: the last
        quarter grows above the floor too, at the last half's pace (slopes within a factor of
        1.5), so it went on through most of the last half, not only its end; and steadily, no
        single rise making half of it."""
        t, e = self.tail, self.end
        if e is None or e.slope <= self.floor or not 2 / 3 <= e.slope / t.slope <= 1.5:
            return False
        return self.tail_quantum <= 0.5 * t.slope * self.tail_span

    def _late_leak(self) -> Judgement:
        t, r = self.tail, self.rate
        return Judgement("leak", t, "%s grows %s %s over its last half (%s) > floor %s and "
                         "still at the end (last quarter %s %s): a leak that started late "
                         "(%s %s overall)" % (self.name, num(t.slope), self.per, ci_text(t),
                                              num(self.floor), num(self.end.slope), self.per,
                                              num(r.slope), self.per), t)

    def _coarse_note(self) -> str:
        return ("the last half is flat but growth comes in steps of up to %s, which take %s %s "
                "at the floor rate and it spans %s; run more %s"
                % (size_text(self.quantum, self.unit), num(self.quantum / self.floor),
                   self.step, num(self.tail_span), self.step))
