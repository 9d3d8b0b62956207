"""How the harness writes a measured number, a size, a confidence and a rate: one rule for
verdict reasons, the table, JUnit messages and every report, so the same rate reads the same
wherever it is shown. A rate here is the results document's (docs/RESULTS.md: `value`,
`unit`, `ci`, `confidence`, `n`)."""

from __future__ import annotations

import math

_BINARY = ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB"))


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


def size(v, unit: str = "B") -> str:
    """A quantity of `unit`; bytes in binary units, three significant figures: 1.5 MiB,
    56 KiB, 144 B. Another unit: the number and the unit ('2.0 maps')."""
    if v is None:
        return "-"
    if unit != "B" or not math.isfinite(v):
        return "%s %s" % (num(v), unit)
    for div, suffix in _BINARY:
        if abs(v) >= div:
            return "%.3g %s" % (v / div, suffix)
    return "%.0f B" % v


def ci(confidence, low, high) -> str:
    """'95% CI 1022..1040'."""
    return "%s CI %s..%s" % (percent(confidence), num(low), num(high))


def rate(r: dict | None) -> str:
    """'1040 B/thread (95% CI 1022..1040)', or '-' for no rate."""
    if not r:
        return "-"
    return "%s %s (%s)" % (num(r["value"]), r["unit"], ci(r["confidence"], *r["ci"]))


def rate_value(r: dict | None) -> str:
    """'1040 B/thread', or '-' for no rate."""
    return "%s %s" % (num(r["value"]), r["unit"]) if r else "-"


def rate_pm(r: dict | None, column_unit: str = "B/thread") -> str:
    """The slope and half its interval, with digits for the larger of the two: '2048 +- 20',
    '0.40 +- 3.00'; the unit follows when it is not the column's ('2048 +- 10 B/s')."""
    if not r:
        return "-"
    slope, half = r["value"], (r["ci"][1] - r["ci"][0]) / 2.0
    big = max(abs(slope), abs(half))
    digits = 0 if big >= 100 else 1 if big >= 1 else 2
    text = "%.*f +- %.*f" % (digits, slope, digits, half)
    return text if r["unit"] == column_unit else text + " " + r["unit"]
