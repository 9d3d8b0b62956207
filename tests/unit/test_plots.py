"""Pictures of a run (plots.py): each signal against threads finished with the verdict's own
trend, and the verdict grid; on the recorded run (resultsdocs.py)."""
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from resultsdocs import LEAK, OK, cell_of, hostile_doc
from tlsleak import cellinfo, numtext, plots

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def written(written_report):
    return written_report[1]


@pytest.mark.parametrize("cid", ["control_leak-system", LEAK, OK])
def test_plotted_trend_of_every_signal_is_its_recorded_rate(doc, cid):
    """The line drawn is the slope and interval the verdict used (same points after the
    signal's own warm-up, same confidence), not another estimate."""
    c = cell_of(doc, cid)
    for name, judged in c["signals"].items():
        rate = judged["rate"]
        if rate is None:
            continue
        x, y = (np.asarray(v, float) for v in cellinfo.series(c, name))
        kept = x >= cellinfo.warmup_end(doc, c, x)
        slope, _, low, high = plots.fit(x[kept], y[kept], rate["confidence"])
        assert (slope, low, high) == pytest.approx(
            (rate["value"], *rate["ci"]), abs=0.01), name


def test_grid_has_every_cell_with_the_rate_in_each_leaking_one(doc):
    fig = plots.grid_figure(doc)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert len(texts) == len(doc["cells"])
    for c in doc["cells"]:
        if c["verdict"] == "leak":
            assert numtext.size(c["rate"]["value"]) in texts
    rows = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    cols = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert {(cellinfo.scenario_label(c), c["config"]) for c in doc["cells"]} <= \
        {(r, k) for r in rows for k in cols}


def test_cell_figure_has_a_panel_per_signal_and_the_verdict_in_the_title(doc):
    leak = cell_of(doc, LEAK)
    fig = plots.cell_figure(doc, leak)
    titles = [ax.get_title() for ax in fig.axes if ax.axison]
    assert len(titles) == len(cellinfo.signal_names(leak))
    assert titles[0].startswith("rss: leak")
    assert "LEAK" in fig._suptitle.get_text()


def test_render_writes_png_and_svg_of_the_grid_and_the_cells_that_matter(written):
    stems = {p.stem for p in written}
    assert "grid" in stems and "cell-" + LEAK in stems and "cell-" + OK not in stems
    for p in written:
        data = p.read_bytes()
        if p.suffix == ".png":
            assert data.startswith(b"\x89PNG\r\n\x1a\n")
        elif p.suffix == ".svg":
            assert ET.fromstring(data).tag.endswith("svg")


def test_grid_rows_of_controls_say_what_they_must_show(doc):
    rows = [t.get_text() for t in plots.grid_figure(doc).axes[0].get_yticklabels()]
    assert "control_leak (must leak)" in rows and "control_flat (must be ok)" in rows
    assert "last_round_alloc" in rows


def test_a_signal_without_a_recorded_trend_gets_no_line(doc):
    c = json.loads(json.dumps(cell_of(doc, OK)))
    c["signals"]["rss"]["rate"] = None
    fig = plots.cell_figure(doc, c)
    rss = next(ax for ax in fig.axes if ax.get_title().startswith("rss"))
    assert "Theil-Sen trend" not in [line.get_label() for line in rss.get_lines()]


def test_names_and_reasons_from_programs_draw_as_text_never_as_mathematics():
    """A `$...$` in a program's name is text: matplotlib would otherwise parse it as mathtext
    (and fail on what is not valid mathematics), and control characters are shown."""
    doc = hostile_doc()
    c = doc["cells"][2]
    fig = plots.cell_figure(doc, c)
    plots.figure_bytes(fig, "png")
    grid = plots.grid_figure(doc)
    plots.figure_bytes(grid, "svg")
    labels = [t.get_text() for t in grid.axes[0].get_yticklabels()]
    assert any("\\$a^^b\\$" in t and "\\x1b" in t for t in labels)


def test_two_cells_never_share_a_plot_file():
    # --exec cell ids come from the user's program name: "my prog" and "my_prog" (or two long
    # names alike for their first 100 characters) must not overwrite each other's plots.
    ids = ["my prog-system", "my_prog-system", "a" * 300 + "-x", "a" * 300 + "-y"]
    names = [plots.safe_name(i) for i in ids]
    assert len(set(names)) == len(ids)
    assert all(len(n) <= 109 and "/" not in n for n in names)
    assert plots.safe_name("last_round_alloc-mimalloc@2.0.9-dynamic") == \
        "last_round_alloc-mimalloc@2.0.9-dynamic"  # a plain id is its own name
