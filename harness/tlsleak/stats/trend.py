"""The trend of one series: the Theil-Sen slope (the median of the slopes between all pairs of
points: robust to outliers and to the steps of page- or segment-quantized memory) with its
confidence interval (Sen 1968, as computed by scipy.stats.theilslopes)."""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from tlsleak import interrupts
from tlsleak.defaults import default

DEFAULT_CONFIDENCE = default("confidence")
# Theil-Sen is O(n^2) in memory; longer series are thinned evenly to this many points.
MAX_POINTS = 1000


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
    intercept: float = 0.0  # the fitted line's value at x = 0

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


def rate_to_dict(rate: Rate | None) -> dict | None:
    return None if rate is None else rate.to_dict()


def warm() -> None:
    """Load scipy's statistics now (about 0.3 s), not at the first look of a running cell."""
    interrupts.load("scipy.stats")


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
    if np.ptp(ya) == 0:  # not one byte of change: scipy's interval is NaN when x has ties
        return Rate(slope=0.0, low=0.0, high=0.0, n=int(len(xa)), confidence=float(confidence),
                    unit=unit, intercept=float(ya[0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        stats = interrupts.load("scipy.stats")  # ~0.3 s: only when a slope is fitted
        res = stats.theilslopes(ya, xa, alpha=confidence)
    slope, intercept, low, high = float(res[0]), float(res[1]), float(res[2]), float(res[3])
    if not (math.isfinite(slope) and math.isfinite(low) and math.isfinite(high)):
        return None
    return Rate(slope=slope, low=min(low, slope), high=max(high, slope), n=int(len(xa)),
                confidence=float(confidence), unit=unit,
                intercept=intercept if math.isfinite(intercept) else 0.0)
