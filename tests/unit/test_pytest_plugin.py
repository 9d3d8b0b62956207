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


def test_the_plugin_runs_on_the_oldest_python_its_docs_name():
    # Its docstring says Python 3.9: the module must parse as 3.9 does.
    import ast
    import tlsleak.pytest_plugin as plugin
    assert "Python 3.9 or later" in plugin.__doc__
    ast.parse(open(plugin.__file__).read(), feature_version=(3, 9))


def test_a_run_that_could_not_be_judged_says_so():
    doc = {"cells": [{"id": "prog-system", "verdict": "inconclusive",
                      "reason": "rss: only 2 points after the warm-up (need 6)"}]}
    assert describe(doc, 4) == (
        "tlsleak: no leak found, but a cell was inconclusive (exit 4)\n"
        "  prog-system: inconclusive: rss: only 2 points after the warm-up (need 6)")
