"""The statistics: does a memory signal grow linearly with the number of threads created?

One series is (x = threads done, y = a footprint in bytes).  After a warm-up (points with
x < warmup * final x are dropped) the trend is the Theil-Sen slope (median of pairwise slopes,
robust to outliers and to the steps of page- or segment-quantized memory) with its confidence
interval (Sen 1968, as computed by scipy.stats.theilslopes), in bytes per thread.

Rules for one series, floor F (bytes/thread) and confidence c:

  leak          CI low > F, and the trend persists to the end: the Theil-Sen slope over the
                last half of the post-warm-up points is also > F.
  ok            CI high < F ("flat"), or the last-half CI high < F ("plateau": growth that stopped;
                a cache that fills is not a leak), with two guards that make it inconclusive:
                - late growth: the last half alone grows with CI low > F;
                - coarse steps (plateau only): the largest rise between two consecutive points
                  (a step of quantized memory, e.g. a 2 MiB huge page) exceeds F times the
                  last half's span of threads, so a leak of F per thread could have stayed
                  hidden inside one step there.
  inconclusive  otherwise; also with fewer than `min_points` points after the warm-up, or no
                spread in x.

A cell is decided by its deciding signals: the OS's view (rss, commit) against the floor, and
the allocator's own statistics (heap_inuse, heap_mapped), exact to the byte, against a lower
stats floor: leak if any is a leak, ok if all are ok, else inconclusive. The other signals
(vsize, maps, the allocator's attribution fields, any key signals.TABLE does not know) are
judged and shown, never deciding.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from . import interrupts
from . import signals as _signals
from .checkpoints import series as _series
from .checkpoints import signal_fields
from .defaults import default
from .numtext import num as _num, percent

DEFAULT_FLOOR = default("floor")
DEFAULT_STATS_FLOOR = default("stats_floor")
DEFAULT_CONFIDENCE = default("confidence")
DEFAULT_WARMUP = default("warmup")
DECIDING = _signals.deciding("all")
MIN_POINTS = 6
# Theil-Sen is O(n^2) in memory; longer series are thinned evenly to this many points.
MAX_POINTS = 1000
EXTERNAL = _signals.EXTERNAL



@dataclass(frozen=True)
class Rate:
    """A trend: slope in `unit` (B/thread for memory signals, B/s for a program measured in
    time) and its confidence interval [low, high] at `confidence`, from `n` points."""

    slope: float
    low: float
    high: float
    n: int
    confidence: float
    unit: str = "B/thread"

    @property
    def half_ci(self) -> float:
        return (self.high - self.low) / 2.0

    def to_dict(self) -> dict:
        """The results.json form: value and ci in unit, confidence, n."""
        return {
            "value": round(float(self.slope), 2),
            "unit": self.unit,
            "ci": [round(float(self.low), 2), round(float(self.high), 2)],
            "confidence": float(self.confidence),
            "n": int(self.n),
        }


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
        return {"verdict": self.verdict, "rate": rate_to_dict(self.rate), "reason": self.reason}


@dataclass(frozen=True)
class CellJudgement:
    """The verdict of a cell: decided by `signal` (None when no deciding signal was present);
    `signals` holds every judged signal, deciding or shown."""

    verdict: str
    signal: str | None
    rate: Rate | None
    reason: str
    signals: dict = field(default_factory=dict)  # name -> Judgement

    def signals_dict(self) -> dict:
        """The results.json "signals" object."""
        return {name: j.to_dict() for name, j in self.signals.items()}


def rate_to_dict(rate: Rate | None) -> dict | None:
    return None if rate is None else rate.to_dict()


# ---------------------------------------------------------------------------------------------
# formatting


def _unit(name: str) -> str:
    return _signals.unit(name)


def _ci(rate: Rate) -> str:
    return "%s CI %s..%s" % (percent(rate.confidence), _num(rate.low), _num(rate.high))


# ---------------------------------------------------------------------------------------------
# the trend


def _thin(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    if len(x) <= max_points:
        return x, y
    idx = np.unique(np.linspace(0, len(x) - 1, max_points).round().astype(int))
    return x[idx], y[idx]


def theil_sen(x: Sequence[float], y: Sequence[float], *, confidence: float = DEFAULT_CONFIDENCE,
              max_points: int = MAX_POINTS, unit: str = "B/thread") -> Rate | None:
    """Theil-Sen slope of y over x with its CI at `confidence`; None when x has no spread or the
    result is not finite."""
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    ok = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[ok], ya[ok]
    if len(xa) < 2 or np.ptp(xa) == 0:
        return None
    order = np.argsort(xa, kind="stable")
    xa, ya = _thin(xa[order], ya[order], max_points)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        stats = interrupts.load("scipy.stats")  # ~0.3 s: only when a slope is fitted
        res = stats.theilslopes(ya, xa, alpha=confidence)
    slope, low, high = float(res[0]), float(res[2]), float(res[3])
    if not (math.isfinite(slope) and math.isfinite(low) and math.isfinite(high)):
        return None
    return Rate(slope=slope, low=min(low, slope), high=max(high, slope), n=int(len(xa)),
                confidence=float(confidence), unit=unit)


def judge_series(x: Sequence[float], y: Sequence[float], *, name: str = "rss",
                 floor: float = DEFAULT_FLOOR, confidence: float = DEFAULT_CONFIDENCE,
                 warmup: float = DEFAULT_WARMUP, min_points: int = MIN_POINTS,
                 per: str = "thread") -> Judgement:
    """Judge one series (x = threads done, y = the signal) against `floor` (units/thread).
    per="s": x is seconds instead (a program whose threads are not counted), floor in units/s."""
    unit = _unit(name)
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    if xa.shape != ya.shape:
        raise ValueError("x and y differ in length (%d, %d)" % (len(xa), len(ya)))
    finite = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[finite], ya[finite]
    if len(xa) == 0:
        return Judgement("inconclusive", None, "%s: no points" % name)
    order = np.argsort(xa, kind="stable")
    xa, ya = xa[order], ya[order]
    final = float(xa[-1])
    keep = xa >= warmup * final if final > 0 else np.ones(len(xa), dtype=bool)
    xa, ya = xa[keep], ya[keep]
    n = len(xa)
    if n < min_points:
        return Judgement("inconclusive", None,
                         "%s: only %d points after the warm-up (need %d)" % (name, n, min_points))
    if np.ptp(xa) == 0:
        return Judgement("inconclusive", None,
                         "%s: threads done does not vary (all %s)" % (name, _num(final)))
    rate = theil_sen(xa, ya, confidence=confidence, unit=unit + "/" + per)
    if rate is None:
        return Judgement("inconclusive", None, "%s: no trend could be computed" % name)
    tail = theil_sen(xa[n // 2:], ya[n // 2:], confidence=confidence, unit=unit + "/" + per)
    # Memory often grows in steps (pages, huge pages, allocator segments). A flat last half only
    # shows that growth stopped if, at the floor rate, it was long enough to cross the largest
    # step seen: quantum <= floor * span.
    quantum = max(0.0, float(np.max(np.diff(ya))))
    tail_span = float(np.ptp(xa[n // 2:]))
    coarse = quantum > floor * tail_span

    step = "threads" if per == "thread" else "seconds"
    per = "%s/%s" % (unit, per)
    fl = "floor %s" % _num(floor)
    ci = _ci(rate)
    tail_txt = ("last half %s %s (%s)" % (_num(tail.slope), per, _ci(tail))
                if tail is not None else "last half has no trend")
    flat_tail = tail is not None and tail.high < floor
    late = tail is not None and tail.low > floor

    if rate.low > floor:
        if tail is not None and tail.slope > floor:
            return Judgement("leak", rate, "%s grows %s %s (%s) > %s"
                             % (name, _num(rate.slope), per, ci, fl), tail)
        if flat_tail and not coarse:
            return Judgement("ok", rate, "%s plateau: grew %s %s (%s), %s < %s"
                             % (name, _num(rate.slope), per, ci, tail_txt, fl), tail)
        why = (_coarse_note(quantum, floor, tail_span, unit, step) if flat_tail
               else "growth may be stopping")
        return Judgement("inconclusive", rate, "%s grows %s %s (%s) > %s, but %s: %s"
                         % (name, _num(rate.slope), per, ci, fl, tail_txt, why), tail)
    if rate.high < floor and not late:
        return Judgement("ok", rate, "%s flat: %s %s (%s) < %s"
                         % (name, _num(rate.slope), per, ci, fl), tail)
    if flat_tail and not coarse:
        return Judgement("ok", rate, "%s plateau: %s %s overall (%s), %s < %s"
                         % (name, _num(rate.slope), per, ci, tail_txt, fl), tail)
    if late:
        return Judgement("inconclusive", rate, "%s %s %s overall (%s), but %s > %s: growth may "
                         "have started late" % (name, _num(rate.slope), per, ci, tail_txt, fl), tail)
    note = ": " + _coarse_note(quantum, floor, tail_span, unit, step) if flat_tail else ""
    return Judgement("inconclusive", rate, "%s %s %s (%s) straddles %s%s"
                     % (name, _num(rate.slope), per, ci, fl, note), tail)


def _size(v: float, unit: str) -> str:
    if unit != "B":
        return "%s %s" % (_num(v), unit)
    for div, suffix in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if abs(v) >= div:
            return "%.1f %s" % (v / div, suffix)
    return "%.0f B" % v


def _coarse_note(quantum: float, floor: float, span: float, unit: str,
                 step: str = "threads") -> str:
    return ("the last half is flat but growth comes in steps of up to %s, which take %s %s "
            "at the floor rate and it spans %s; run more %s"
            % (_size(quantum, unit), _num(quantum / floor), step, _num(span), step))


# ---------------------------------------------------------------------------------------------
# a cell


def judge_signals(log, *, floor: float = DEFAULT_FLOOR, confidence: float = DEFAULT_CONFIDENCE,
                  warmup: float = DEFAULT_WARMUP, deciding: Sequence[str] = DECIDING,
                  min_points: int = MIN_POINTS,
                  stats_floor: float = DEFAULT_STATS_FLOOR) -> CellJudgement:
    """Judge every footprint signal present in the checkpoints of `log` (a CheckpointLog, or a
    list of checkpoint dicts). The cell verdict comes from the deciding signals present: leak if
    any is leak, ok if all are ok, else inconclusive. `floor` is in bytes/thread for the OS
    signals, `stats_floor` for the allocator's statistics; counts (`maps`) use their own floor
    from signals.TABLE. Keys the table does not know are judged and shown too."""
    checkpoints = log.checkpoints if hasattr(log, "checkpoints") else list(log)
    judged: dict[str, Judgement] = {}
    present = signal_fields(checkpoints)
    for name in _signals.judged_order(deciding, present):
        x, y = _series(checkpoints, name)
        if not x:
            continue
        judged[name] = judge_series(x, y, name=name,
                                    floor=_signals.floor_for(name, floor, stats_floor),
                                    confidence=confidence, warmup=warmup, min_points=min_points)
    return decide(judged, deciding)


def decide(judged: dict, deciding: Sequence[str] = DECIDING) -> CellJudgement:
    """The cell verdict from judged signals (name -> Judgement); only `deciding` ones count."""
    present = [name for name in deciding if name in judged]
    if not present:
        return CellJudgement("inconclusive", None, None,
                             "no deciding signal (%s) in the checkpoints" % ", ".join(deciding),
                             judged)
    for wanted in ("leak", "inconclusive"):
        for name in present:
            if judged[name].verdict == wanted:
                j = judged[name]
                return CellJudgement(wanted, name, j.rate, j.reason, judged)
    name = present[0]
    j = judged[name]
    return CellJudgement("ok", name, j.rate, j.reason, judged)


# ---------------------------------------------------------------------------------------------
# samples taken from outside the process


def samples_to_series(samples: Iterable, timeline: Iterable, *, field_name: str = "rss"
                      ) -> tuple[list[float], list[float]]:
    """Map external samples [(t, value)] (or dicts with 't' and `field_name`) onto threads done,
    interpolating linearly in the checkpoint timeline [(t_recv, done)] (same clock). Samples
    outside the timeline's time span are dropped."""
    tl = sorted((float(t), float(d)) for t, d in timeline
                if t is not None and d is not None)
    if len(tl) < 2 or tl[-1][0] <= tl[0][0]:
        return [], []
    tt = np.array([t for t, _ in tl])
    dd = np.maximum.accumulate(np.array([d for _, d in tl]))
    ts: list[float] = []
    vs: list[float] = []
    for s in samples:
        if isinstance(s, dict):
            t, v = s.get("t"), s.get(field_name)
        else:
            t, v = s[0], s[1]
        if t is None or v is None:
            continue
        t = float(t)
        if tt[0] <= t <= tt[-1]:
            ts.append(t)
            vs.append(float(v))
    if not ts:
        return [], []
    xs = np.interp(np.array(ts), tt, dd)
    return [float(v) for v in xs], vs


def judge_external(samples: Iterable, timeline: Iterable, *, floor: float = DEFAULT_FLOOR,
                   confidence: float = DEFAULT_CONFIDENCE, warmup: float = DEFAULT_WARMUP,
                   min_points: int = MIN_POINTS, name: str = EXTERNAL) -> Judgement:
    """Judge RSS sampled from outside the process ([(t, rss)] or [{"t":..,"rss":..}]) against the
    checkpoint timeline [(t_recv, done)]; same rules as judge_series. Shown, not deciding."""
    x, y = samples_to_series(samples, timeline)
    if not x:
        return Judgement("inconclusive", None,
                         "%s: no samples within the checkpoint timeline" % name)
    return judge_series(x, y, name=name, floor=floor, confidence=confidence, warmup=warmup,
                        min_points=min_points)


# ---------------------------------------------------------------------------------------------
# sequential judging: decide while the checkpoints arrive


def look_confidence(confidence: float, looks: int) -> float:
    """The confidence each look must reach so that, over `looks` planned looks, the chance of
    any wrong early verdict stays within 1 - confidence (Bonferroni)."""
    return 1.0 - (1.0 - confidence) / max(1, looks)


# Sequential judging may settle `leak` only once this fraction of the planned looks is in. Until
# a bounded cache stops growing its growth is as linear as a leak's, so no rule on the data alone
# can tell them apart early: a cache that fills over the first half of a run (faulty's `fill`:
# 5000 of 10000 threads) must have had the chance to show its plateau. At 0.85 the last half of
# the post-warm-up window starts past 0.6 x 0.85 = 51% of the threads. `ok` is not held back: a
# flat series is no risk to the user.
LEAK_HORIZON = 0.85


def tail_agrees(j: Judgement) -> bool:
    """Whether the last half's slope interval overlaps the whole window's: the trend at the end
    is the trend overall, not the last step of a growth that comes in large steps."""
    if j.rate is None or j.tail is None:
        return False
    return j.tail.low <= j.rate.high and j.rate.low <= j.tail.high


class Sequential:
    """Judges a cell at each new checkpoint and says when its verdict is settled: `leak` or `ok`
    at the per-look confidence, the same on `agree` consecutive looks; `leak` only past
    `horizon` of the planned looks, and only where the deciding signal's last half agrees with
    its whole window (tail_agrees; otherwise the look is inconclusive)."""

    def __init__(self, *, floor: float = DEFAULT_FLOOR, confidence: float = DEFAULT_CONFIDENCE,
                 warmup: float = DEFAULT_WARMUP, looks: int = 40, agree: int = 2,
                 deciding: Sequence[str] = DECIDING, min_points: int = MIN_POINTS,
                 stats_floor: float = DEFAULT_STATS_FLOOR, horizon: float = LEAK_HORIZON):
        self.kw = dict(floor=floor, confidence=look_confidence(confidence, looks),
                       warmup=warmup, deciding=deciding, min_points=min_points,
                       stats_floor=stats_floor)
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

    def look(self, checkpoints) -> CellJudgement | None:
        """The settled judgement, or None while the data cannot decide yet."""
        checkpoints = list(checkpoints)
        j = self.judge(checkpoints)
        self._streak = (self._streak + [j.verdict])[-self.agree:]
        settled = (len(self._streak) == self.agree and len(set(self._streak)) == 1
                   and j.verdict in ("leak", "ok"))
        if settled and j.verdict == "leak" and len(checkpoints) - 1 < self.horizon * self.looks:
            return None
        return j if settled else None


def attribution(judged: CellJudgement) -> list[str]:
    """What grew beside the verdict: every signal but the deciding one whose whole interval lies
    above zero, e.g. "alloc_threads +1.00 structures/thread" (one thread cache per thread)."""
    out = []
    for name, j in judged.signals.items():
        if name == judged.signal or j.rate is None or not j.rate.low > 0:
            continue
        out.append("%s +%s %s/thread" % (name, _num(j.rate.slope), _unit(name)))
    return out
