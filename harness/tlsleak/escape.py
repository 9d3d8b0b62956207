"""Text from programs and results files, made safe for each output it reaches: the terminal,
Markdown (a GitHub job summary), XML (JUnit) and plots. HTML is the standard library's
`html.escape`. A program's name, its stderr and a results file's strings are data: they must
never act as markup, close a code span, or drive the terminal.

Every view passes foreign text through the function of its output, once, where it writes it.
"""

from __future__ import annotations

import re

# Characters that act on a terminal or reorder what it shows: C0 and C1 controls, DEL, and
# Unicode's bidirectional overrides and isolates (text that reads one way and runs another).
_TERMINAL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# What XML 1.0 cannot hold at all, even escaped.
_XML_BAD = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# ASCII punctuation that Markdown (CommonMark with GFM's tables and strikethrough) reads as
# markup or HTML inside a line: code, emphasis, links and images (no `[`, no link), raw HTML and
# autolinks (`<`), entities, table cells, strikethrough. A backslash shows it as itself.
_MD_ACTIVE = re.compile(r"([\\`*\[\]<|~&])")
# `_` opens or closes emphasis only beside something that is not a letter or digit
# (CommonMark's flanking rule): control_flat needs no escape, _x_ does.
_MD_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
# What starts a block at the head of a list item's text: a heading, a quote, a list.
_MD_LEAD = re.compile(r"^([#>+-]|\d+(?=[.)]))")
_BACKTICKS = re.compile("`+")
_BLANKS = re.compile("[ \t\r\n]+")


def _shown(m: re.Match) -> str:
    code = ord(m.group())
    return "\\x%02x" % code if code < 0x100 else "\\u%04x" % code


def terminal(text) -> str:
    """One line for a terminal: every control character (newlines, tabs and ESC included) is
    shown as \\xNN, never sent."""
    return _TERMINAL.sub(_shown, "" if text is None else str(text))


def terminal_lines(text) -> list[str]:
    """A text of several lines for a terminal: one safe line per line of `text`."""
    return [terminal(line) for line in ("" if text is None else str(text)).splitlines()]


def xml(text) -> str:
    """Text XML 1.0 can hold: the characters it cannot are shown as \\xNN (ElementTree escapes
    the rest)."""
    return _XML_BAD.sub(_shown, "" if text is None else str(text))


def _one_line(text) -> str:
    """Blanks and line breaks as one space, other controls shown, ends trimmed."""
    return terminal(_BLANKS.sub(" ", "" if text is None else str(text)).strip())


def md_text(text) -> str:
    """Plain text inside Markdown, on one line (a table cell or a list item): markup characters
    backslash-escaped, line breaks as spaces, controls shown."""
    inline = _MD_UNDERSCORE.sub(r"\\_", _MD_ACTIVE.sub(r"\\\1", _one_line(text)))
    m = _MD_LEAD.match(inline)
    if not m:
        return inline
    cut = m.end() + (1 if m.group()[0].isdigit() else 0)  # 1. -> 1\.
    return inline[:cut - 1] + "\\" + inline[cut - 1:]


def md_code(text, table: bool = False) -> str:
    """A Markdown code span that shows `text` literally, whatever it holds: the fence is one
    backtick longer than the longest run of backticks inside, padded with a space when the
    text starts or ends with one. In a `table` cell pipes are escaped, so that the span stays
    in its cell (GFM reads `\\|` inside a code span there as `|`)."""
    body = _one_line(text) or " "
    fence = "`" * (1 + max((len(run) for run in _BACKTICKS.findall(body)), default=0))
    pad = " " if body[0] == "`" or body[-1] == "`" else ""
    if table:
        body = body.replace("|", "\\|")
    return fence + pad + body + pad + fence


def md_fence(text, info: str = "") -> str:
    """A fenced code block showing `text` literally: the fence is longer than any run of
    backticks in it (at least three)."""
    runs = [len(run) for run in _BACKTICKS.findall(str(text))]
    fence = "`" * max(3, 1 + max(runs, default=0))
    lines = [terminal(line) for line in str(text).splitlines()]
    return "\n".join([fence + info, *lines, fence])


def plot(text) -> str:
    """Text for a matplotlib label: controls shown, and `$` escaped so that no part of it is
    read as mathematics (a name like `a$b$` would otherwise fail to draw)."""
    return terminal(text).replace("$", r"\$")
