"""Text from programs and results files made safe for each output (escape.py): shown, never
acting as markup, closing a code span or driving the terminal."""
import re
import xml.etree.ElementTree as ET

import pytest

from resultsdocs import HOSTILE, code_spans
from tlsleak import escape

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("raw, shown", [
    ("\x1b[2Jgone", "\\x1b[2Jgone"), ("a\nb\tc\r", "a\\x0ab\\x09c\\x0d"), ("\x7f\x9b", "\\x7f\\x9b"),
    ("\u202eevil", "\\u202eevil"), ("plain é ü", "plain é ü"), (None, "")])
def test_the_terminal_gets_no_control_character(raw, shown):
    assert escape.terminal(raw) == shown


def test_a_text_of_several_lines_keeps_its_lines_each_made_safe():
    assert escape.terminal_lines("a\x1b[1m\nb\r\n") == ["a\\x1b[1m", "b"]


@pytest.mark.parametrize("text", ["a`b", "``x``", "`", "a ``` b `", "x|y", HOSTILE, "", " "])
def test_a_code_span_shows_its_text_whatever_backticks_it_holds(text):
    """CommonMark code spans (https://spec.commonmark.org/0.30/#code-spans): the span
    closes only at a backtick string as long as its opener."""
    span = escape.md_code(text)
    spans, outside = code_spans("x " + span + " y")
    assert outside == "x  y" and len(spans) == 1
    assert spans[0] == (escape.terminal(" ".join(text.split())) or " ")


def test_in_a_table_a_pipe_in_a_code_span_is_escaped():
    assert escape.md_code("a|b", table=True) == "`a\\|b`"
    assert escape.md_code("a|b") == "`a|b`"


def test_plain_markdown_text_carries_no_markup_html_or_line_break():
    text = escape.md_text("<img src=x onerror=alert(1)> **bold** [l](u) `c` | ~~s~~ &amp;\nnext")
    assert "\n" not in text
    for active in ("<", "*", "[", "]", "`", "|", "~", "&"):
        assert not re.search(r"(?<!\\)" + re.escape(active), text), active


@pytest.mark.parametrize("lead", ["# h", "> q", "- i", "+ i", "1. n", "2) n"])
def test_plain_markdown_text_starts_no_block(lead):
    text = escape.md_text(lead)
    assert "\\" in text[:3] and text.replace("\\", "") == lead


def test_a_fence_is_longer_than_any_backtick_run_inside():
    block = escape.md_fence("echo ```\nrm ````", "sh")
    first, *body, last = block.splitlines()
    assert first == "`````sh" and last == "`````" and body == ["echo ```", "rm ````"]


def test_xml_text_parses_whatever_it_held():
    node = ET.Element("x", a=escape.xml(HOSTILE))
    node.text = escape.xml(HOSTILE)
    back = ET.fromstring(ET.tostring(node))
    assert back.get("a") == back.text and "\\x00" in back.text and "\\x1b" in back.text


def test_plot_text_is_never_mathematics():
    assert escape.plot("a$b$c") == r"a\$b\$c"


def test_an_underscore_is_escaped_only_where_it_could_start_or_end_emphasis():
    assert escape.md_text("control_flat-system") == "control_flat-system"
    assert escape.md_text("_x_ y_") == "\\_x\\_ y\\_"
