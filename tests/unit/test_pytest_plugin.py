"""The pytest plugin's pure parts: the command line it runs and the failure message it gives."""
import pytest

from tlsleak.pytest_plugin import Tlsleak, describe

pytestmark = pytest.mark.unit


def test_everything_after_exec_is_the_programs_own_command_line(tmp_path):
    t = Tlsleak(tmp_path, "/co/tlsleak")
    argv = t.argv(["./prog", "--threads", "5"], allocators=["system", "mimalloc:override"],
                  threads=4000, options=["--floor", 256], out=tmp_path / "o")
    assert argv == ["/co/tlsleak", "run", "-a", "system", "-a", "mimalloc:override",
                    "--threads", "4000", "--floor", "256", "--out", str(tmp_path / "o"),
                    "--exec", "--", "./prog", "--threads", "5"]
    assert t.argv(["p"]) == ["/co/tlsleak", "run", "--out", str(tmp_path), "--exec", "--", "p"]


def test_a_leak_names_each_cell_that_is_not_ok_with_its_numbers():
    doc = {"cells": [
        {"id": "prog-system", "verdict": "ok", "reason": ""},
        {"id": "prog-mimalloc-override", "verdict": "leak",
         "reason": "rss grows 2064 B/thread (95% CI 2063..2064) > floor 128"}]}
    assert describe(doc, 1) == (
        "tlsleak: leak found (exit 1)\n"
        "  prog-mimalloc-override: leak: rss grows 2064 B/thread (95% CI 2063..2064) > floor 128")


def test_a_usage_error_shows_the_launchers_own_words():
    msg = describe(None, 2, "tlsleak: error: unknown allocator 'nosuch'\n")
    assert msg == "tlsleak: usage error (exit 2)\n  tlsleak: error: unknown allocator 'nosuch'"
