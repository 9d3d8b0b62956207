"""The files the views leave in an output folder (reportfiles.py), on the recorded run
(resultsdocs.py): plots/, summary.md and report.html, each plot drawn once, and never a file
tlsleak did not write replaced."""
import base64
import json

import pytest

from resultsdocs import OK, cell_of
from tlsleak import (UsageError, cellinfo, html_report, plots, reportfiles, results, show,
                     summary_md)

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def outdir(written_report):
    return written_report


def test_write_reports_leaves_plots_summary_and_page_in_the_output_folder(doc, outdir):
    out, written = outdir
    assert (out / "summary.md").read_text() == summary_md.summary_markdown(doc)
    page = (out / "report.html").read_text()
    assert page == html_report.html_report(doc, plots.rendered_pngs(doc, out / "plots"))
    for c in cellinfo.cells_to_plot(doc):
        for fmt in ("png", "svg"):
            assert plots.cell_path(out / "plots", c, fmt) in written
    for c in cellinfo.interesting_cells(doc):  # on the page beside its flat control
        for shown in (c, cellinfo.flat_control(doc, c)):
            png = plots.cell_path(out / "plots", shown, "png")
            assert base64.b64encode(png.read_bytes()).decode() in page  # drawn once
    assert (out / "plots" / "grid.svg") in written


def test_a_cell_without_checkpoints_still_has_a_plot_a_row_and_a_text(doc):
    """An error cell (the program never started) has no series: each view says so."""
    d = json.loads(json.dumps(doc))
    broken = dict(cell_of(d, OK), id="last_round_alloc-broken", config="broken", verdict="error",
                  reason="cannot start /nowhere: No such file or directory", checkpoints=[],
                  samples=[], signals={}, rate=None, signal=None)
    d["cells"].append(broken)
    fig = plots.cell_figure(d, broken)
    assert "cannot start" in fig.axes[0].texts[0].get_text()
    assert "(no checkpoints)" in show.show_cell(d, broken)
    rows = [ln for ln in summary_md.summary_markdown(d).splitlines() if ln.startswith("| `")]
    assert rows[-1].startswith("| `last_round_alloc-broken` | error |")
    assert 'data-cell="last_round_alloc-broken"' in html_report.grid_html(d)


def test_views_drawn_again_replace_their_own_files_and_nothing_else(doc, outdir, tmp_path):
    results.claim_views(results.view_paths(outdir[0]))  # tlsleak's own views: replaceable
    quick = json.loads(json.dumps(doc))  # nothing to plot but the grid
    quick["cells"] = [c for c in quick["cells"] if not cellinfo.is_interesting(c)]
    (tmp_path / "summary.md").write_text("# my notes\n")
    with pytest.raises(UsageError, match="summary.md is not tlsleak's"):
        reportfiles.write_reports(quick, tmp_path)
    assert (tmp_path / "summary.md").read_text() == "# my notes\n"
    assert not (tmp_path / "report.html").exists() and not (tmp_path / "plots").exists()
    reportfiles.write_reports(quick, tmp_path, overwrite=True)
    assert (tmp_path / "summary.md").read_text().startswith("## tlsleak: ")
    reportfiles.write_reports(quick, tmp_path)  # now tlsleak's: replaced without asking
