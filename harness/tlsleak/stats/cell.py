"""The verdict of a cell from its signals. A cell is decided by its deciding signals: the OS's
view (rss, commit) against the floor, and the allocator's own statistics (heap_inuse,
heap_mapped), exact to the byte, against a lower stats floor: leak if any is a leak, ok if all
are ok, else inconclusive. The other signals (vsize, maps, the allocator's attribution fields,
any key signals.TABLE does not know) are judged and shown, never deciding. RSS sampled from
outside is mapped onto threads done by the checkpoints' receive times (shown)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from tlsleak import signals
from tlsleak.checkpoints import series as checkpoint_series
from tlsleak.checkpoints import signal_fields
from tlsleak.defaults import default
from tlsleak.numtext import num
from tlsleak.stats.series import (DEFAULT_CONFIDENCE, DEFAULT_FLOOR, DEFAULT_WARMUP, MIN_POINTS,
                                  NEWEST, Judgement, judge_series, size_text)
from tlsleak.stats.trend import Rate

DEFAULT_STATS_FLOOR = default("stats_floor")
DECIDING = signals.deciding("all")
EXTERNAL = signals.EXTERNAL


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


def judge_signals(log, *, floor: float = DEFAULT_FLOOR, confidence: float = DEFAULT_CONFIDENCE,
                  warmup: float = DEFAULT_WARMUP, deciding: Sequence[str] = DECIDING,
                  min_points: int = MIN_POINTS, stats_floor: float = DEFAULT_STATS_FLOOR,
                  newest: float = NEWEST) -> CellJudgement:
    """Judge every footprint signal present in the checkpoints of `log` (a CheckpointLog, or a
    list of checkpoint dicts). The cell verdict comes from the deciding signals present: leak if
    any is leak, ok if all are ok, else inconclusive. `floor` is in bytes/thread for the OS
    signals, `stats_floor` for the allocator's statistics; counts (`maps`) use their own floor
    from signals.TABLE. Keys the table does not know are judged and shown too."""
    checkpoints = log.checkpoints if hasattr(log, "checkpoints") else list(log)
    judged: dict[str, Judgement] = {}
    present = signal_fields(checkpoints)
    for name in signals.judged_order(deciding, present):
        x, y = checkpoint_series(checkpoints, name)
        if not x:
            continue
        judged[name] = judge_series(x, y, name=name,
                                    floor=signals.floor_for(name, floor, stats_floor),
                                    confidence=confidence, warmup=warmup,
                                    min_points=min_points, newest=newest)
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


def attribution(judged: CellJudgement) -> list[str]:
    """What grew beside the verdict: every signal but the deciding one whose whole interval lies
    above zero, e.g. "alloc_threads +1.00 structures/thread" (one thread cache per thread)."""
    out = []
    for name, j in judged.signals.items():
        if name == judged.signal or j.rate is None or not j.rate.low > 0:
            continue
        out.append("%s +%s %s/thread" % (name, num(j.rate.slope), signals.unit(name)))
    return out


# Signals that hold a leak's real size when RSS shows only part of it: address space reserved
# (RSS counts only the pages a program touched; an allocator may reserve far more per thread
# than it writes) and the bytes the allocator itself says it has mapped.
BEYOND_RSS = {"vsize": "address space (vsize) grows",
              "heap_mapped": "the allocator's own mapped bytes (heap_mapped) grow"}
BEYOND_FACTOR = 2.0  # how much faster than RSS such a signal must grow to be named


def beyond_rss(judged: dict) -> str | None:
    """The sentence that says where a leak's real size is when it is not in RSS, or None:
    a signal of BEYOND_RSS judged a leak whose whole interval grows more than BEYOND_FACTOR
    times RSS's rate, e.g. "address space (vsize) grows 256.0 MiB/thread beside RSS's
    8.0 KiB/thread: RSS counts only the pages touched". `judged`: signal name -> Judgement."""
    rss = judged.get("rss")
    base = max(rss.rate.slope, 0.0) if rss is not None and rss.rate is not None else None
    said = []
    for name, what in BEYOND_RSS.items():
        j = judged.get(name)
        if j is None or j.verdict != "leak" or j.rate is None:
            continue
        if base is not None and j.rate.low <= BEYOND_FACTOR * base:
            continue
        said.append("%s %s/thread" % (what, size_text(j.rate.slope, "B")))
    if not said:
        return None
    return _beside_rss(said, base)


def beyond_rss_between(checkpoints: Sequence[dict], floor: float = DEFAULT_FLOOR) -> str | None:
    """The same sentence from the first and the last checkpoint alone, for a runaway killed
    before its signals could be judged: the average growth per thread between them, of a
    BEYOND_RSS signal above `floor` and more than BEYOND_FACTOR times RSS's."""
    pts = [c for c in checkpoints if c.get("done") is not None]
    if len(pts) < 2 or pts[-1]["done"] <= pts[0]["done"]:
        return None
    span = pts[-1]["done"] - pts[0]["done"]

    def average(name):
        if name in pts[0] and name in pts[-1]:
            return (pts[-1][name] - pts[0][name]) / span
        return None

    base = average("rss")
    said = []
    for name, what in BEYOND_RSS.items():
        grew = average(name)
        if grew is not None and grew > floor and grew > BEYOND_FACTOR * max(base or 0.0, 0.0):
            said.append("%s %s/thread" % (what, size_text(grew, "B")))
    if not said:
        return None
    return _beside_rss(said, None if base is None else max(base, 0.0),
                       " (averaged from the first to the last checkpoint)")


def _beside_rss(said, base, how=""):
    beside = ("RSS's %s/thread" % size_text(base, "B")) if base is not None else "no RSS figure"
    return "%s beside %s%s: RSS counts only the pages touched" % (" and ".join(said), beside, how)


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
