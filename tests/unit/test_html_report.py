"""The single-file HTML page of a run (html_report.py), on the recorded run (resultsdocs.py):
every cell in the grid, each finding beside its flat control, self-contained, and text from
programs escaped."""
import json
from html.parser import HTMLParser

import pytest

from resultsdocs import CRASH, HOSTILE, LEAK, cell_of, exec_recorded, hostile_doc
from tlsleak import cellinfo, html_report, summary_md

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def html_text(written_report):
    return (written_report[0] / "report.html").read_text(encoding="utf-8")


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.grid_cells, self.urls, self.ids, self.scripts = [], [], set(), 0
        self.images, self.tags = [], set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
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
    leak = cell_of(doc, LEAK)
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
    assert "\n|" not in md  # no table
    page = _Page()
    page.feed(html_report.html_report(d))
    assert sorted(page.grid_cells) == sorted(c["id"] for c in d["cells"]) and not page.images


def test_program_text_on_the_page_is_text_never_markup():
    """A program named <b>x</b> shows as that text: no element of the page comes from a
    program or a results file, and control characters are shown as \\xNN."""
    page = _Page()
    doc = hostile_doc()
    text = html_report.html_report(doc, pngs={c["id"]: b"" for c in doc["cells"]})
    page.feed(text)
    assert "<b>x</b>" not in text and "&lt;b&gt;x&lt;/b&gt;" in text
    assert page.tags <= {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2",
                         "h3", "h4", "p", "section", "table", "thead", "tbody", "tr", "th", "td",
                         "a", "span", "small", "article", "div", "figure", "figcaption", "img",
                         "pre", "details", "summary", "ul", "li", "code", "footer", "b"}
    assert "\x1b" not in text and "\x00" not in text and HOSTILE not in text


def test_the_page_lists_the_processes_of_an_exec_cell():
    doc = exec_recorded()
    cell = doc["cells"][0]
    program = cell["subjects"][0]
    page = html_report.html_report(doc, {cell["id"]: b""})
    assert "<h4>Processes</h4>" in page and "<td>%d</td>" % program["pid"] in page
    assert "recorded, not judged" in page
