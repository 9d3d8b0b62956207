"""The views of a run (plots, summary.md, report.html, show) from a recorded results file:
tests/data/report/results.json, a real run trimmed to a known leak (last_round_alloc under
mimalloc:dynamic), its controls, an ok cell and a crash (fault_crash_dtor), compared with a
baseline. Recorded with `tlsleak run -j2 -s control_leak -s control_flat -s last_round_alloc
-s fault_crash_dtor -s seed_thread_local -a system -a mimalloc:dynamic --baseline
results/baseline/linux-x86_64-glibc.json`, keeping 7 of its 12 cells (summary and baseline
lists recomputed)."""
import base64
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from tlsleak import UsageError, cellinfo, html_report, plots, reportfiles, show, summary_md

pytestmark = pytest.mark.unit

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "report" / "results.json"
LEAK = "last_round_alloc-mimalloc@2.0.9-dynamic"
CRASH = "fault_crash_dtor-system"
OK = "last_round_alloc-system"


@pytest.fixture(scope="module")
def doc():
    return json.loads(FIXTURE.read_text())


@pytest.fixture(scope="module")
def outdir(doc, tmp_path_factory):
    """The files of the recorded run, written once: plots/, summary.md, report.html."""
    out = tmp_path_factory.mktemp("report")
    return out, reportfiles.write_reports(doc, out)


@pytest.fixture(scope="module")
def html_text(outdir):
    return (outdir[0] / "report.html").read_text(encoding="utf-8")


def cell(doc, cid):
    return next(c for c in doc["cells"] if c["id"] == cid)


def test_fixture_holds_what_the_views_need(doc):
    verdicts = {c["verdict"] for c in doc["cells"]}
    assert {"leak", "ok", "crash"} <= verdicts
    assert all(c["checkpoints"] for c in doc["cells"])
    assert cell(doc, LEAK)["baseline"]["status"] == "known"


# ---------------------------------------------------------------------------------------------
# which cells matter


def test_interesting_cells_are_findings_and_surprises_not_controls_that_passed(doc):
    ids = [c["id"] for c in cellinfo.interesting_cells(doc)]
    assert ids == [LEAK, CRASH]


def test_a_control_that_missed_is_interesting(doc):
    ctl = dict(cell(doc, "control_flat-system"), verdict="leak")
    assert cellinfo.is_interesting(ctl)


def test_a_finding_sits_beside_the_flat_control_of_its_configuration(doc):
    flat = cellinfo.flat_control(doc, cell(doc, LEAK))
    assert flat["id"] == "control_flat-mimalloc@2.0.9-dynamic"


def test_cells_to_plot_are_the_findings_and_their_controls_only(doc):
    ids = {c["id"] for c in cellinfo.cells_to_plot(doc)}
    assert {LEAK, CRASH, "control_flat-mimalloc@2.0.9-dynamic", "control_flat-system"} <= ids
    assert OK not in ids


def test_settle_point_is_the_checkpoint_the_run_recorded_even_with_later_ones(doc):
    """Checkpoints keep arriving between the settling look and the kill: the settle point is
    the recorded one, not the last checkpoint."""
    late = cell(doc, "control_leak-system")
    assert cellinfo.settled_at(late) == late["settled_at"] < late["checkpoints"][-1]["done"]
    assert late["settled_at"] in [c["done"] for c in late["checkpoints"]]
    assert cellinfo.settled_at(cell(doc, CRASH)) is None  # the crash ended it, not a verdict


def test_a_cell_the_harness_stopped_is_not_shown_as_killed_by_a_signal(doc):
    leak = cell(doc, LEAK)
    assert leak["exit"]["stopped_by_harness"] and leak["exit"]["signal"] is None
    rows = dict(cellinfo.cell_provenance(leak))
    assert rows["exit"] == "stopped by the harness once the verdict was settled"
    assert dict(cellinfo.cell_provenance(cell(doc, CRASH)))["exit"] == "code -11, signal 11"


def test_warmup_end_is_the_setting_times_the_final_threads_done(doc):
    x, _ = cellinfo.series(cell(doc, LEAK), "rss")
    assert cellinfo.warmup_end(doc, cell(doc, LEAK), x) == pytest.approx(0.2 * 2000)


def test_reproduce_command_carries_the_environment_quoted():
    c = {"command": ["/b/prog", "--size", "1024"], "env": {"LD_PRELOAD": "/lib/a b.so"}}
    assert cellinfo.command_line(c) == "env LD_PRELOAD='/lib/a b.so' /b/prog --size 1024"


# ---------------------------------------------------------------------------------------------
# plots


@pytest.mark.parametrize("cid", ["control_leak-system", LEAK, OK])
def test_plotted_trend_of_every_signal_is_its_recorded_rate(doc, cid):
    """The line drawn is the slope and interval the verdict used (same points after the
    signal's own warm-up, same confidence), not another estimate."""
    c = cell(doc, cid)
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
            assert cellinfo.size_text(c["rate"]["value"]) in texts
    rows = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    cols = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert {(cellinfo.scenario_label(c), c["config"]) for c in doc["cells"]} <= \
        {(r, k) for r in rows for k in cols}


def test_cell_figure_has_a_panel_per_signal_and_the_verdict_in_the_title(doc):
    leak = cell(doc, LEAK)
    fig = plots.cell_figure(doc, leak)
    titles = [ax.get_title() for ax in fig.axes if ax.axison]
    assert len(titles) == len(cellinfo.signal_names(leak))
    assert titles[0].startswith("rss: leak")
    assert "LEAK" in fig._suptitle.get_text()


def test_render_writes_png_and_svg_of_the_grid_and_the_cells_that_matter(outdir):
    written = outdir[1]
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
    c = json.loads(json.dumps(cell(doc, OK)))
    c["signals"]["rss"]["rate"] = None
    fig = plots.cell_figure(doc, c)
    rss = next(ax for ax in fig.axes if ax.get_title().startswith("rss"))
    assert "Theil-Sen trend" not in [line.get_label() for line in rss.get_lines()]


# ---------------------------------------------------------------------------------------------
# Markdown


def gfm_tables(text):
    """Each GFM table of `text` as a list of rows (lists of cell texts): a header line, a
    delimiter line of ---, then the body lines; pipes escaped as \\| stay inside a cell."""
    lines = text.splitlines()
    tables = []
    for i in range(len(lines) - 1):
        if lines[i].startswith("|") and re.fullmatch(r"\|(\s*:?-{3,}:?\s*\|)+", lines[i + 1]):
            rows = [lines[i]]
            rows += [ln for ln in _until_blank(lines[i + 2:])]
            tables.append([_split_row(r) for r in rows])
    return tables


def _until_blank(lines):
    for ln in lines:
        if not ln.startswith("|"):
            return
        yield ln


def _split_row(line):
    assert line.startswith("|") and line.endswith("|"), line
    cells = re.split(r"(?<!\\)\|", line[1:-1])
    return [c.strip().replace("\\|", "|") for c in cells]


def test_markdown_findings_table_parses_with_the_same_columns_in_every_row(doc):
    md = summary_md.summary_markdown(doc)
    tables = gfm_tables(md)
    assert len(tables) == 1
    header, *rows = tables[0]
    assert header == list(summary_md.FINDING_COLUMNS)
    assert all(len(r) == len(header) for r in rows)
    assert [r[0] for r in rows] == ["`%s`" % LEAK, "`%s`" % CRASH]
    leak = dict(zip(header, rows[0]))
    assert leak["B/thread"] == "57344" and leak["baseline"] == "known"
    assert leak["CI"] == "57344..57344 (99.875%)"


def test_a_pipe_in_a_reason_stays_inside_its_cell(doc):
    d = json.loads(json.dumps(doc))
    cell(d, CRASH)["reason"] = "a | b\nc"
    header, *rows = gfm_tables(summary_md.summary_markdown(d))[0]
    assert all(len(r) == len(header) for r in rows)
    assert rows[1][-1] == "a | b c"


def test_markdown_says_what_changed_against_which_baseline_and_the_controls(doc):
    md = summary_md.summary_markdown(doc)
    assert md.startswith("## tlsleak: 2 findings in 7 cells, 1 new against the baseline "
                         "(controls passed)")
    assert doc["baseline"]["file"] in md
    assert re.search(r"\*\*new .*\*\*: `%s`" % CRASH, md)
    assert re.search(r"\*\*known .*\*\*: `%s`" % LEAK, md)
    assert "Passed: 4 control cells, 4 showed what they must." in md
    assert doc["harness"]["commit"][:12] in md


def test_markdown_says_when_the_controls_failed(doc):
    d = json.loads(json.dumps(doc))
    d["controls"] = {"passed": False, "failures": ["control_flat-system: leak, must be ok"]}
    md = summary_md.summary_markdown(d)
    assert "CONTROLS FAILED" in md.splitlines()[0]
    assert "- control_flat-system: leak, must be ok" in md


# ---------------------------------------------------------------------------------------------
# HTML


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.grid_cells, self.urls, self.ids, self.scripts = [], [], set(), 0
        self.images = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "td" and "data-cell" in a:
            self.grid_cells.append(a["data-cell"])
        if tag == "script":
            self.scripts += 1
        for key in ("src", "href"):
            if key in a:
                self.urls.append(a[key])
        if tag == "img":
            self.images.append(a.get("alt"))


@pytest.fixture(scope="module")
def page(html_text):
    p = _Page()
    p.feed(html_text)
    return p


def test_html_grid_has_every_cell_once(doc, page):
    assert sorted(page.grid_cells) == sorted(c["id"] for c in doc["cells"])
    assert "grid" in page.ids


def test_html_is_self_contained(page):
    assert page.scripts == 0
    assert page.urls and all(u.startswith(("data:image/png;base64,", "#")) for u in page.urls)


def test_html_shows_each_finding_beside_its_flat_control(page):
    assert "cell-" + LEAK in page.ids and "cell-" + CRASH in page.ids
    assert page.images.count("plot of " + LEAK) == 1
    assert "plot of control_flat-mimalloc@2.0.9-dynamic" in page.images
    assert "plot of control_flat-system" in page.images


def test_html_says_controls_and_what_changed_against_the_baseline(html_text, page):
    text = html_text
    assert {"controls", "baseline"} <= page.ids
    assert "Passed: 4 control cells, 4 showed what they must." in text
    assert "<li>new (the baseline does not expect them): %s</li>" % CRASH in text
    assert "<li>known (explained): %s</li>" % LEAK in text


def test_headline_without_controls_does_not_claim_they_passed(doc):
    d = json.loads(json.dumps(doc))
    d["cells"] = [c for c in d["cells"] if not cellinfo.is_control(c)]
    assert cellinfo.headline(d).endswith("(no controls)")


def test_html_gives_the_exact_command_and_an_issue_text(doc, html_text):
    text = html_text
    leak = cell(doc, LEAK)
    assert cellinfo.command_line(leak) in text
    issue = html_report.issue_text(doc, leak)
    assert "```sh\n%s\n```" % cellinfo.command_line(leak) in issue
    assert "control_flat-mimalloc@2.0.9-dynamic" in issue and leak["allocator"]["id"] in issue


def test_a_clean_run_without_baseline_says_so_in_both_views(doc):
    d = json.loads(json.dumps(doc))
    d["cells"] = [c for c in d["cells"] if not cellinfo.is_interesting(c)]
    for c in d["cells"]:
        c.pop("baseline", None)
    del d["baseline"]
    md = summary_md.summary_markdown(d)
    assert "Nothing leaked, crashed or surprised." in md and "No baseline given" in md
    assert gfm_tables(md) == []
    page = _Page()
    page.feed(html_report.html_report(d))
    assert sorted(page.grid_cells) == sorted(c["id"] for c in d["cells"]) and not page.images


# ---------------------------------------------------------------------------------------------
# show


def test_show_prints_every_checkpoint_with_warmup_and_settle_marks(doc):
    leak = cell(doc, LEAK)
    text = show.show_cell(doc, leak)
    rows = [ln.split() for ln in text.splitlines() if re.match(r"\s+\d+\s", ln)]
    assert [int(r[0]) for r in rows] == [c["done"] for c in leak["checkpoints"]]
    assert [r[1] == "w" for r in rows] == [c["done"] < 400 for c in leak["checkpoints"]]
    assert rows[-1][-2:] == ["<-", "settled"]
    assert leak["reason"] in text and cellinfo.command_line(leak) in text


def test_show_thins_a_long_series_keeping_first_and_last():
    idx = show._rows(1000)
    assert len(idx) <= show.MAX_ROWS and idx[0] == 0 and idx[-1] == 999


def test_find_cell_takes_an_id_or_an_unambiguous_part(doc):
    assert cellinfo.find_cell(doc, "fault_crash")["id"] == CRASH
    assert cellinfo.find_cell(doc, "control_flat") is None  # two cells match
    assert cellinfo.find_cell(doc, "last_round_alloc-system")["id"] == OK  # exact beats part


@pytest.mark.parametrize("query, words", [("nothing_like_it", "no cell matches"),
                                          ("control_flat", "matches 2 cells")])
def test_show_says_in_one_line_when_a_query_names_no_cell_or_several(doc, query, words):
    with pytest.raises(UsageError) as e:
        show.show(doc, query)
    assert words in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("content, words", [(None, "No such file"), ("{", "not valid JSON"),
                                            ('{"schema": "x"}', "not a tlsleak-results/2")])
def test_load_results_refuses_what_is_not_a_results_file(tmp_path, content, words):
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UsageError) as e:
        cellinfo.load_results(path)
    assert words in str(e.value)


def test_load_results_reads_the_recorded_run(doc):
    assert cellinfo.load_results(FIXTURE) == doc


# ---------------------------------------------------------------------------------------------
# the files of a run


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
    broken = dict(cell(d, OK), id="last_round_alloc-broken", config="broken", verdict="error",
                  reason="cannot start /nowhere: No such file or directory", checkpoints=[],
                  samples=[], signals={}, rate=None, signal=None)
    d["cells"].append(broken)
    fig = plots.cell_figure(d, broken)
    assert "cannot start" in fig.axes[0].texts[0].get_text()
    assert "(no checkpoints)" in show.show_cell(d, broken)
    header, *rows = gfm_tables(summary_md.summary_markdown(d))[0]
    assert rows[-1][:2] == ["`last_round_alloc-broken`", "error"]
    assert 'data-cell="last_round_alloc-broken"' in html_report.grid_html(d)
