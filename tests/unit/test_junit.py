"""junit.xml (junit.py): a testcase per cell, verdicts mapped to failure, error, skipped or a
pass, controls passing when they show what they must, and well-formed XML whatever a program
printed or was named."""
import copy
import os
import xml.etree.ElementTree as ET

import pytest

from resultsdocs import CELLS, HOSTILE, hostile_doc, make_doc, recorded
from tlsleak import cellinfo, junit

pytestmark = pytest.mark.unit


def write(tmp_path, doc):
    path = tmp_path / "junit.xml"
    junit.write(path, doc)
    root = ET.parse(path).getroot()  # raises on XML that is not well-formed
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    return suite, {case.get("name"): case for case in suite.iter("testcase")}


def outcome(case):
    kids = [k.tag for k in case if k.tag in ("failure", "error", "skipped")]
    assert len(kids) <= 1
    return kids[0] if kids else "pass"


def test_junit_maps_verdicts(tmp_path):
    suite, cases = write(tmp_path, make_doc())
    assert suite.get("name") == "tlsleak"
    got = {name: outcome(case) for name, case in cases.items()}
    assert got == {
        "control_leak-mimalloc@1.0-override": "pass",       # a positive control must leak
        "control_flat-system": "pass",
        "seed_thread_local-mimalloc@1.0-override": "failure",
        "tss_dtor_free-jemalloc@1.0-dynamic": "skipped",
        "pthread_key_dtor_free-tcmalloc@1.0-static": "error",
        "cxx_thread_local-system": "error",
        "fault_abort-system": "error",
    }
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"),
            suite.get("skipped")) == ("7", "1", "3", "1")


def test_junit_case_names_classnames_times_and_messages(tmp_path):
    _, cases = write(tmp_path, make_doc())
    leak = cases["seed_thread_local-mimalloc@1.0-override"]
    assert leak.get("classname") == "tlsleak.seed_thread_local"
    assert float(leak.get("time")) == pytest.approx(2.5)
    msg = leak.find("failure").get("message")
    assert "rss grows 2048 B/thread" in msg and "2048 B/thread (95% CI 2028..2068, rss, n=33)" in msg
    assert leak.find("failure").get("type") == "leak"
    skipped = cases["tss_dtor_free-jemalloc@1.0-dynamic"].find("skipped")
    assert "straddles floor 128" in skipped.get("message")
    err = cases["pthread_key_dtor_free-tcmalloc@1.0-static"].find("error")
    assert err.get("type") == "crash" and "SIGSEGV" in err.get("message")
    assert cases["cxx_thread_local-system"].find("error").get("type") == "timeout"


def test_junit_control_that_misses_fails(tmp_path):
    bad = copy.deepcopy(CELLS[:2])
    bad[0]["verdict"] = "ok"
    bad[1]["verdict"] = "leak"
    _, cases = write(tmp_path, make_doc(bad))
    assert outcome(cases["control_leak-mimalloc@1.0-override"]) == "failure"
    assert outcome(cases["control_flat-system"]) == "failure"


def test_junit_survives_control_characters_in_stderr(tmp_path):
    _, cases = write(tmp_path, make_doc())
    err = cases["pthread_key_dtor_free-tcmalloc@1.0-static"].find("system-err").text
    assert "Segmentation fault" in err and "\\x1b" in err and "\\x00" in err


def test_junit_is_well_formed_whatever_the_program_is_named(tmp_path):
    """Names, commands and reasons reach attributes too (classname, name, property values):
    each is XML that parses, with what XML cannot hold shown as \\xNN."""
    _, cases = write(tmp_path, hostile_doc())
    case = next(c for name, c in cases.items() if name.startswith("seed"))
    shown = HOSTILE.replace("\x00", "\\x00").replace("\x1b", "\\x1b")
    assert case.get("classname") == "tlsleak.seed" + shown
    assert "\\x00" in case.find("properties/property[@name='command']").get("value")


def test_junit_write_is_atomic(tmp_path):
    junit.write(tmp_path / "junit.xml", make_doc())
    assert os.listdir(tmp_path) == ["junit.xml"]


def test_every_junit_case_carries_the_full_command_with_the_preload():
    doc = recorded()
    doc["cells"][0]["env"] = {"LD_PRELOAD": "/usr/lib/libx.so"}
    root = junit.tree(doc).getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == len(doc["cells"])
    for case, c in zip(cases, doc["cells"]):
        prop = case.find("properties/property[@name='command']").get("value")
        assert prop == cellinfo.command_line(c) and c["command"][0] in prop
        assert "command: " + prop in case.find("system-out").text
    assert cellinfo.command_line(doc["cells"][0]).startswith("env LD_PRELOAD=/usr/lib/libx.so ")
    ET.fromstring(ET.tostring(root))  # well-formed
