"""The pytest plugin as a user's test suite meets it: `tlsleak.check` fails a test on a leaking
program with the verdict and its numbers, and passes its non-leaking twin."""
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from clihelp import ROOT
from programs import build_programs
from tlsleak.vocab import EXIT_INCONCLUSIVE, EXIT_MEANING

pytestmark = pytest.mark.integration

USER_TESTS = """
def test_leaky(tlsleak):
    tlsleak.check([{prog!r}, "4000", "2048", "100"], allocators=["system"])

def test_tidy(tlsleak):
    doc = tlsleak.check([{prog!r}, "4000", "0", "100"], allocators=["system"])
    assert doc["cells"][0]["verdict"] == "ok"

def test_leaky_unmodified(tlsleak):
    tlsleak.check([{plain!r}, "100000", "2048"], allocators=["system"], threads=10000)

def test_tidy_unmodified(tlsleak):
    doc = tlsleak.check([{plain!r}, "100000", "0"], allocators=["system"], threads=10000)
    assert doc["cells"][0]["verdict"] == "ok" and doc["cells"][0]["probe"]["claimed"]

def test_too_short(tlsleak):
    tlsleak.check([{plain!r}, "5", "0"], allocators=["system"])

def test_too_short_strict(tlsleak):
    tlsleak.check([{plain!r}, "5", "0"], allocators=["system"], fail_on_inconclusive=True)
"""


def test_the_fixture_fails_the_leaking_program_and_passes_its_twin(tmp_path):
    built = build_programs()
    (tmp_path / "test_user.py").write_text(
        USER_TESTS.format(prog=built.program("checkpoint_header"),
                          plain=built.program("churn_pthread")))
    junit = tmp_path / "junit.xml"
    env = dict(os.environ, TLSLEAK_SKIP_SETUP="1", PYTHONPATH=str(ROOT / "harness"))
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "tlsleak.pytest_plugin",
                        "-p", "no:cacheprovider", f"--junitxml={junit}", "test_user.py"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=900, env=env)
    assert r.returncode == 1, r.stdout + r.stderr
    cases = {tc.get("name"): tc for tc in ET.parse(junit).iter("testcase")}
    assert cases["test_tidy"].find("failure") is None
    assert cases["test_tidy_unmodified"].find("failure") is None
    # A program too short to be measured: not a pass; skipped with why, or failed when asked
    skipped = cases["test_too_short"].find("skipped")
    assert skipped is not None and "inconclusive" in skipped.get("message"), r.stdout
    assert f"tlsleak: {EXIT_MEANING[EXIT_INCONCLUSIVE]} (exit 4)" in \
        cases["test_too_short_strict"].find("failure").get("message")
    # with checkpoints (tlsleak.h), and unmodified (the probe counts its threads)
    for test, program in (("test_leaky", "checkpoint_header"),
                          ("test_leaky_unmodified", "churn_pthread")):
        failure = cases[test].find("failure")
        assert failure is not None
        message = failure.get("message")
        assert "tlsleak: leak found (exit 1)" in message
        assert f"{program}-system: leak: rss grows" in message and "B/thread" in message
