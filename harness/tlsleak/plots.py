"""Pictures of a run: each signal of a cell against threads finished, and the verdict grid.

A leak is easiest to believe as a picture: memory against threads, a straight line up, beside
a flat control. Cell plots show the points, the warm-up that was dropped, the Theil-Sen trend
with its confidence band (verdict.theil_sen, i.e. scipy.stats.theilslopes: the very estimate
the verdict used), and where the verdict settled. The grid shows scenarios x configurations
coloured by verdict.

Matplotlib (loaded by mpl() on the first picture) runs headless (Agg); figures are built with the object API (no pyplot state), so
rendering is thread-safe and leaves nothing open.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

from tlsleak import cellinfo, interrupts, numtext
from tlsleak.escape import plot as safe
from tlsleak.signals import unit as signal_unit
from tlsleak.stats import theil_sen

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_MPL = None


def mpl():
    """matplotlib's pieces and numpy, loaded on the first picture (about half a second: paid
    only when reports are drawn), headless (Agg)."""
    global _MPL
    if _MPL is None:
        interrupts.load("matplotlib").use("Agg")
        _MPL = SimpleNamespace(
            np=interrupts.load("numpy"),
            Figure=interrupts.load("matplotlib.figure").Figure,
            FigureCanvasAgg=interrupts.load("matplotlib.backends.backend_agg").FigureCanvasAgg,
            to_rgb=interrupts.load("matplotlib.colors").to_rgb,
            Patch=interrupts.load("matplotlib.patches").Patch,
            FuncFormatter=interrupts.load("matplotlib.ticker").FuncFormatter,
            MaxNLocator=interrupts.load("matplotlib.ticker").MaxNLocator)
    return _MPL


FORMATS = ("png", "svg")
PNG_DPI = 90
PANEL_SIZE = (4.2, 2.6)  # inches per signal panel
MAX_COLUMNS = 2  # two panels a row stay legible when a cell sits beside its control
HEADER_IN = 0.95  # inches above the panels: title and legend


# ---------------------------------------------------------------------------------------------
# one cell


def fit(x, y, confidence: float):
    """(slope, intercept, low slope, high slope) of y over x: the verdict's Theil-Sen trend
    (same thinning, same interval), or None when it has none. The intercept is theilslopes'
    own: the line passes through (median x, median y)."""
    rate = theil_sen(x, y, confidence=confidence)
    if rate is None:
        return None
    np = mpl().np
    return rate.slope, float(np.median(y)) - rate.slope * float(np.median(x)), rate.low, rate.high


def _draw_signal(ax, doc: dict, cell: dict, name: str, settled: float | None) -> None:
    x, y = (mpl().np.asarray(v, float) for v in cellinfo.series(cell, name))
    judged = (cell.get("signals") or {}).get(name) or {}
    warm = cellinfo.warmup_end(doc, cell, x)
    kept = x >= warm if warm is not None else mpl().np.ones(len(x), bool)
    ax.plot(x[~kept], y[~kept], "o", ms=3, color="#bbbbbb", label="warm-up (dropped)")
    ax.plot(x[kept], y[kept], "o-", ms=3, lw=0.8, color="#1f4e79", label="signal")
    if warm:
        ax.axvspan(0, warm, color="#eeeeee", zorder=0)
    rate = judged.get("rate") or {}
    # Only where the verdict had a trend: a line the verdict did not use would mislead.
    line = fit(x[kept], y[kept], rate["confidence"]) if rate and kept.sum() >= 2 else None
    if line is not None:
        slope, icpt, lo, hi = line
        xs = mpl().np.array([x[kept].min(), x[kept].max()])
        # theilslopes' intercept puts the line through (median x, median y): pivot the band there.
        mx = float(mpl().np.median(x[kept]))
        my = icpt + slope * mx
        ax.fill_between(xs, my + lo * (xs - mx), my + hi * (xs - mx), color="#d7191c", alpha=0.18,
                        lw=0, label="CI of the slope")
        ax.plot(xs, icpt + slope * xs, "-", color="#d7191c", lw=1.4, label="Theil-Sen trend")
    if settled is not None:
        ax.axvline(settled, color="#333333", ls="--", lw=0.9, label="verdict settled")
    if signal_unit(name) == "B":
        ax.yaxis.set_major_formatter(mpl().FuncFormatter(lambda v, _: numtext.size(v)))
    ax.set_title(safe("%s: %s, %s" % (name, judged.get("verdict", "?"),
                                      numtext.rate_value(rate or None))),
                 fontsize=9, color=_title_colour(judged.get("verdict")))
    # Few ticks: creating tick artists is most of the rendering time.
    ax.xaxis.set_major_locator(mpl().MaxNLocator(nbins=4, integer=True))
    ax.yaxis.set_major_locator(mpl().MaxNLocator(nbins=4))
    ax.tick_params(labelsize=7)
    ax.grid(True, lw=0.3, alpha=0.5)


def _title_colour(verdict: str | None) -> str:
    return "#b2182b" if verdict == "leak" else "#222222"


def cell_figure(doc: dict, cell: dict) -> Figure:
    """One panel per judged signal (deciding one first) against threads finished; the title
    says the verdict and the deciding rate, one legend under it explains the marks."""
    names = cellinfo.signal_names(cell)
    cols = max(1, min(MAX_COLUMNS, len(names)))
    rows = max(1, -(-len(names) // cols))
    width, height = PANEL_SIZE[0] * cols, PANEL_SIZE[1] * rows + HEADER_IN
    fig = mpl().Figure(figsize=(width, height))
    # A fixed layout: constrained layout costs a draw per save and doubles the rendering time.
    fig.subplots_adjust(left=0.75 / width, right=1 - 0.15 / width, bottom=0.5 / height,
                        top=1 - HEADER_IN / height, wspace=0.3, hspace=0.55)
    axes = fig.subplots(rows, cols, squeeze=False)
    settled = cellinfo.settled_at(cell)
    for ax, name in zip(axes.flat, names):
        _draw_signal(ax, doc, cell, name, settled)
    for ax in axes.flat[len(names):]:
        ax.set_axis_off()
    for ax in axes.flat[len(names) - cols:len(names)]:
        ax.set_xlabel("threads finished", fontsize=8)
    if not names:
        axes[0, 0].text(0.5, 0.5, safe("no checkpoints: %s" % cell["reason"]), ha="center",
                        va="center", wrap=True, fontsize=9)
    else:
        marks = {}  # one legend entry per kind of mark, from whichever panel has it
        for ax in axes.flat[:len(names)]:
            for handle, label in zip(*ax.get_legend_handles_labels()):
                marks.setdefault(label, handle)
        fig.legend(marks.values(), marks.keys(), loc="upper center", ncols=len(marks), fontsize=7,
                   frameon=False, bbox_to_anchor=(0.5, 1 - 0.4 / height))
    rate = numtext.rate(cell.get("rate"))
    why = cell["reason"] if rate == "-" else "%s %s" % (cell.get("signal"), rate)
    fig.suptitle(safe("%s: %s, %s" % (cell["id"], cell["verdict"].upper(), why)),
                 fontsize=10, y=1 - 0.08 / height, va="top",
                 color=_title_colour(cell.get("verdict")))
    return fig


# ---------------------------------------------------------------------------------------------
# the grid


def grid_axes(doc: dict) -> tuple[list[str], list[str], dict]:
    """(scenario labels, columns, {(scenario label, column): cell}) in run order; a control's
    label says what it must show. A column is a configuration, named with its target too when
    the document holds several (a merge of a native and a Wine run)."""
    several = len(doc.get("parts") or []) > 1
    scenarios, configs, where = [], [], {}
    for c in doc.get("cells") or []:
        s, k = cellinfo.scenario_label(c), c.get("config", "?")
        k = "%s %s" % (c.get("target"), k) if several else k
        scenarios += [s] if s not in scenarios else []
        configs += [k] if k not in configs else []
        where[(s, k)] = c
    return scenarios, configs, where


def grid_label(cell: dict) -> str:
    if cell.get("verdict") == "leak" and cell.get("rate"):
        return numtext.size(cell["rate"]["value"])
    return "" if cell.get("verdict") == "ok" else str(cell.get("verdict"))[:5]


def grid_figure(doc: dict) -> Figure:
    """Scenarios (rows) x configurations (columns), each cell coloured by its verdict; leaking
    cells carry their bytes per thread, controls that missed a '!'."""
    scenarios, configs, where = grid_axes(doc)
    rgb = mpl().np.ones((max(1, len(scenarios)), max(1, len(configs)), 3))
    rgb[:] = mpl().to_rgb(cellinfo.MISSING_COLOUR)
    # Inches for the row labels (about 0.07 in a character at 8 pt), the legend, the title.
    left = 0.3 + 0.07 * max([len(s) for s in scenarios] + [10])
    bottom, top = 0.4 + 0.06 * max([len(k) for k in configs] + [6]), 0.75
    width = left + 0.2 + 0.95 * max(1, len(configs))
    height = bottom + top + 0.32 * max(1, len(scenarios))
    fig = mpl().Figure(figsize=(width, height))
    fig.subplots_adjust(left=left / width, right=1 - 0.2 / width, bottom=bottom / height,
                        top=1 - top / height)
    ax = fig.subplots()
    for (s, k), c in where.items():
        i, j = scenarios.index(s), configs.index(k)
        rgb[i, j] = mpl().to_rgb(cellinfo.VERDICT_COLOURS.get(c.get("verdict"), "#ffffff"))
        text = grid_label(c) + ("!" if cellinfo.control_missed(c) else "")
        ax.text(j, i, safe(text), ha="center", va="center", fontsize=7,
                color="white" if c.get("verdict") in cellinfo.DARK_VERDICTS else "black")
    ax.imshow(rgb, aspect="auto", interpolation="nearest")
    ax.set_xticks(range(len(configs)), [safe(k) for k in configs], rotation=40, ha="right",
                  fontsize=8)
    ax.set_yticks(range(len(scenarios)), [safe(s) for s in scenarios], fontsize=8)
    ax.set_xticks(mpl().np.arange(-0.5, len(configs)), minor=True)
    ax.set_yticks(mpl().np.arange(-0.5, len(scenarios)), minor=True)
    ax.grid(which="minor", color="white", lw=1.5)
    ax.tick_params(which="minor", length=0)
    counts = ", ".join("%d %s" % (n, v) for v, n in (doc.get("summary") or {}).items() if n)
    fig.suptitle("tlsleak: %d cells (%s)\nleaking cells show bytes per thread; ! = a control "
                 "that missed" % (len(where), safe(counts)), fontsize=9, y=1 - 0.08 / height,
                 va="top")
    present = {c.get("verdict") for c in where.values()}
    handles = [mpl().Patch(color=col, label=v) for v, col in cellinfo.VERDICT_COLOURS.items()
               if v in present]
    if len(where) < len(scenarios) * len(configs):
        handles.append(mpl().Patch(color=cellinfo.MISSING_COLOUR, label="not run"))
    fig.legend(handles=handles, loc="lower center", ncols=len(handles), fontsize=7,
               frameon=False, bbox_to_anchor=(0.5, 0.02))
    return fig


# ---------------------------------------------------------------------------------------------
# files


def figure_bytes(fig: Figure, fmt: str) -> bytes:
    """The figure encoded as `fmt` ("png" or "svg")."""
    buf = io.BytesIO()
    mpl().FigureCanvasAgg(fig)
    fig.savefig(buf, format=fmt, dpi=PNG_DPI, metadata=_metadata(fmt))
    return buf.getvalue()


def _metadata(fmt: str) -> dict:
    # No creation date: the same results give the same bytes.
    return {"svg": {"Date": None}, "png": {"Software": None}}.get(fmt, {})


def safe_name(cell_id: str) -> str:
    """The file name of a cell's plots: its id with every character but letters, digits and
    -_.@ replaced, cut to 100 characters; where anything was replaced or cut, plus 8 hex digits
    of the id's hash, so that two cells never share (and overwrite) one plot."""
    name = "".join(ch if ch.isalnum() or ch in "-_.@" else "_" for ch in cell_id)
    if name == cell_id and len(name) <= 100:
        return name
    return f"{name[:100]}-{hashlib.sha1(cell_id.encode('utf-8', 'replace')).hexdigest()[:8]}"


def cell_path(out_dir, cell: dict, fmt: str) -> Path:
    """Where render() puts a cell's plot: OUT_DIR/cell-ID.FMT."""
    return Path(out_dir) / ("cell-%s.%s" % (safe_name(cell.get("id", "?")), fmt))


def render(doc: dict, out_dir, *, cells: list[dict] | None = None,
           formats=FORMATS) -> list[Path]:
    """Write grid.{png,svg} and one cell-ID.{png,svg} per cell of `cells` (default: the
    interesting cells and their controls) under `out_dir`; return the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    chosen = cellinfo.cells_to_plot(doc) if cells is None else cells
    written = []
    for fmt in formats:
        written.append(out / ("grid.%s" % fmt))
    _write(grid_figure(doc), written[-len(formats):])
    for c in chosen:
        paths = [cell_path(out, c, fmt) for fmt in formats]
        _write(cell_figure(doc, c), paths)  # one figure, saved in every format
        written += paths
    return written


def _write(fig: Figure, paths: list[Path]) -> None:
    for path in paths:
        path.write_bytes(figure_bytes(fig, path.suffix.lstrip(".")))


def rendered_pngs(doc: dict, out_dir) -> dict:
    """{cell id: PNG bytes} of the cell plots render() already wrote under out_dir, for
    html_report to embed without drawing them again."""
    found = {}
    for c in doc.get("cells") or []:
        path = cell_path(out_dir, c, "png")
        if path.is_file():
            found[c.get("id")] = path.read_bytes()
    return found
