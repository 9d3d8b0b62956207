"""The progress display (progress.py): a line per finished cell where the output is not a
terminal, one status line where it is."""
import io

import pytest

from tlsleak import progress

pytestmark = pytest.mark.unit


def record(cid, verdict="ok", role="scenario"):
    return {"id": cid, "verdict": verdict, "role": role, "duration_s": 0.25,
            "rate": {"value": 1040.0, "unit": "B/thread", "ci": [1032, 1048]}}


def test_not_a_terminal_gets_one_plain_line_per_finished_cell():
    out = io.StringIO()
    shown = progress.for_stream(out, 3)
    assert isinstance(shown, progress.Lines)
    shown.started("a")
    shown.finished(record("a"))
    shown.finished(record("b", "leak"))
    shown.close()
    assert out.getvalue().splitlines() == ["[  1/3] a: ok 1040 B/thread (0.2 s)",
                                           "[  2/3] b: leak 1040 B/thread (0.2 s)"]


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_a_terminal_gets_one_status_line_with_running_cells_elapsed_and_left():
    out = Tty()
    shown = progress.for_stream(out, 4)
    assert isinstance(shown, progress.Status)
    shown.t0 -= 10  # ten seconds ago
    shown.started("a")
    shown.started("b")
    shown.ended("a")
    shown.finished(record("a"))
    line = shown.text(now=shown.t0 + 10)
    assert line.startswith("[  1/4]") and "0:10 elapsed" in line and "~0:30 left" in line
    assert "running: b" in line
    shown.finished(record("b", "leak"))  # a finding stays on the screen above the line
    shown.close()
    text = out.getvalue()
    assert "\r\x1b[K" in text and "b: leak 1040 B/thread" in text
    assert text.count("\n") == 1 and text.endswith("\r\x1b[K")  # no line left behind
