"""The chart of a release history: bytes per thread against release (in the history's stated
order), one line per scenario and link mode, a ring on each release where the line's verdict
flips, and the releases that do not build marked on the axis. Its data is historyview.chart's;
this module only draws (matplotlib, loaded on the first picture by plots.mpl, headless, object
API as plots.py)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tlsleak import historyview, plots
from tlsleak.escape import plot as safe

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NAME = "history"  # plots/history.png and .svg
SPREAD = 20  # a log scale when the largest rate is this many times the smallest


def figure(doc: dict) -> Figure:
    c = historyview.chart(doc)
    xs = list(range(len(c.refs)))
    fig = plots.mpl().Figure(figsize=(max(6.0, 0.55 * len(xs) + 3), 4.8))
    ax = fig.add_subplot(1, 1, 1)
    for label, ys in c.series.items():
        pts = [(x, y) for x, y in zip(xs, ys) if y is not None]
        if not pts:
            continue
        line, = ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3,
                        label=safe(label))
        leaks = [(x, y) for x, y in pts if c.verdicts[label][x] == "leak"]
        ax.plot([p[0] for p in leaks], [p[1] for p in leaks], ls="none", marker="o", ms=6,
                color=line.get_color())
        for x in c.flips.get(label, []):
            if ys[x] is not None:
                ax.plot([x], [ys[x]], ls="none", marker="o", ms=13, mfc="none",
                        color=line.get_color(), mew=1.5)
    for x in c.not_built:
        ax.axvspan(x - 0.4, x + 0.4, color="0.85", zorder=0)
        ax.annotate("does not build", (x, 0), xycoords=("data", "axes fraction"),
                    xytext=(0, 4), textcoords="offset points", rotation=90, fontsize=7,
                    ha="center", va="bottom")
    ax.set_xticks(xs)
    ax.set_xticklabels([safe(r) for r in c.refs], rotation=60, ha="right", fontsize=8)
    ax.set_xlim(-0.6, len(xs) - 0.4)
    rates = [y for ys in c.series.values() for y in ys if y and y > 0]
    if rates and max(rates) > SPREAD * min(rates):  # rates orders of magnitude apart
        ax.set_yscale("symlog", linthresh=min(rates))
        ax.set_ylim(bottom=-min(rates))  # noise below zero, not decades of it
        ax.set_ylabel("B/thread (symmetric log scale)")
    else:
        ax.set_ylabel("B/thread")
    ax.set_xlabel(f"release ({c.order} order); large dot: leak, ring: verdict flips")
    ax.set_title(safe(f"tlsleak: release history of {doc['history']['allocator']}"),
                 fontsize=10)
    if ax.get_legend_handles_labels()[0]:  # no line drawn (no release built): no legend
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def render(doc: dict, plots_dir) -> list[Path]:
    """plots/history.png and .svg; returns the paths written."""
    out = Path(plots_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{NAME}.{fmt}" for fmt in plots.FORMATS]
    fig = figure(doc)
    for p in paths:
        p.write_bytes(plots.figure_bytes(fig, p.suffix.lstrip(".")))
    return paths
