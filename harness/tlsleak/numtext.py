"""How the harness writes a measured number: one rule for verdict reasons, JUnit messages and
every report, so the same rate reads the same wherever it is shown."""

from __future__ import annotations

import math


def num(v) -> str:
    """Whole from 100 (and 0), one decimal from 1, two significant figures below: 1040, 12.5,
    0.031. '-' for no number; inf and nan as Python writes them."""
    if v is None:
        return "-"
    if not math.isfinite(v):
        return str(v)
    if abs(v) >= 100 or v == 0:
        return "%.0f" % v
    if abs(v) >= 1:
        return "%.1f" % v
    return "%.2g" % v


def percent(fraction) -> str:
    """0.99875 -> '99.875%' (a per-look confidence must not print as 100%)."""
    return ("%.4f" % (100 * (fraction or 0))).rstrip("0").rstrip(".") + "%"
