"""The run in GitHub-flavoured Markdown (summary_md.py), on the recorded run
(resultsdocs.py): one findings table whose rows stay rows, what changed against the baseline,
the controls; and nothing a program printed or was named acts as Markdown or HTML there."""
import json
import re

import pytest

from resultsdocs import CRASH, HOSTILE, LEAK, cell_of, code_spans, hostile_doc
from tlsleak import summary_md

pytestmark = pytest.mark.unit


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
    cell_of(d, CRASH)["reason"] = "a | b\nc"
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


def test_program_text_in_the_summary_is_shown_not_read_as_markup():
    """A backtick in a program's name must not close its code span and let what follows act
    as Markdown or HTML in a GitHub job summary: every code span holds the name whole, and
    outside code spans every markup character is backslash-escaped."""
    md = summary_md.summary_markdown(hostile_doc())
    for line in md.splitlines():
        if line.startswith("<sub>"):
            line = line[len("<sub>"):-len("</sub>")]
        spans, outside = code_spans(line)
        for markup in ("<b>", "</b>", "*y", "``", "|<"):  # each piece of HOSTILE's markup
            assert not re.search(r"(?<!\\)" + re.escape(markup), outside), line
        for span in spans:
            assert "\x1b" not in span and "\u202e" not in span
    spans = [s for line in md.splitlines() for s in code_spans(line)[0]]
    assert any(s.startswith("seedev``il") for s in spans)
    header, *rows = gfm_tables(md)[0]
    assert all(len(r) == len(header) for r in rows)
    assert HOSTILE not in md
