"""The table, results.json with its schema, and JUnit XML."""
import copy
import json
import os
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from tlsleak import report, results, vocab
from tlsleak.checkpoints import CheckpointLog
from tlsleak.verdict import judge_signals

pytestmark = pytest.mark.unit


def rate(slope, half, n=33):
    return {"value": slope, "unit": "B/thread", "ci": [slope - half, slope + half],
            "confidence": 0.95, "n": n}


def cell(scenario, config, role, verdict, *, r=None, reason="", signal="rss", finished=20000,
         code=0, sig=None, duration=2.5, stderr=""):
    name, _, mode = config.partition(":")
    return {
        "id": "%s-%s" % (scenario, name if mode == "system" else "%s@1.0-%s" % (name, mode)),
        "scenario": scenario, "role": role, "config": config,
        "allocator": {"id": "%s@1.0:%s" % (name, mode), "name": name, "version": "1.0",
                      "mode": mode, "library": None if mode == "system" else "/usr/lib/lib%s.so" % name,
                      "origin": "debian package"},
        "observed_allocator": {"name": name, "version": "1.0", "owns": True,
                               "malloc_from": "/usr/lib/lib%s.so" % name, "libc": "glibc-2.36"},
        "verdict": verdict, "reason": reason or "%s because" % verdict,
        "signal": signal if r else None, "rate": r,
        "signals": {"rss": {"verdict": verdict if verdict in ("ok", "leak", "inconclusive")
                            else "inconclusive", "rate": r, "reason": "rss says so"}} if r else {},
        "threads": {"requested": 20000, "finished": finished, "os_baseline": 1, "os_final": 1,
                    "os_max_sampled": 2},
        "exit": {"code": code, "signal": sig},
        "duration_s": duration,
        "command": ["/build/bin/%s" % scenario, "--threads", "20000"],
        "env": {"LD_PRELOAD": "/usr/lib/lib%s.so" % name} if mode == "override" else {},
        "checkpoints": [{"done": 0, "t_ns": 0, "rss": 4096, "t_recv": 0.01},
                        {"done": 500, "t_ns": 100, "rss": 8192, "t_recv": 0.02}],
        "samples": [{"t": 0.0, "rss": 4096, "threads": 1}],
        "stderr_tail": stderr,
        "provenance": {"compiler": {"c": "GNU 12.2.0", "cxx": "GNU 12.2.0", "c_flags": "-O2",
                                    "cxx_flags": "-O2", "build_type": "Release"},
                       "os": "Debian GNU/Linux 12 (6.1.0, x86_64)", "libc": "glibc 2.36",
                       "harness": {"version": "0.1.0", "commit": None, "dirty": False}},
    }


CELLS = [
    cell("control_leak", "mimalloc:override", "control-leak", "leak", r=rate(1031.2, 9.1)),
    cell("control_flat", "system:system", "control-flat", "ok", r=rate(0.4, 3.0)),
    cell("seed_thread_local", "mimalloc:override", "scenario", "leak", r=rate(2048, 20),
         reason="rss grows 2048 B/thread (95% CI 2028..2068) > floor 128"),
    cell("tss_dtor_free", "jemalloc:dynamic", "scenario", "inconclusive", r=rate(130, 60),
         reason="rss 130 B/thread (95% CI 70..190) straddles floor 128"),
    cell("pthread_key_dtor_free", "tcmalloc:static", "scenario", "crash", finished=1500, code=-11,
         sig=11, reason="killed by SIGSEGV", stderr="Segmentation fault\x1b[0m\x00 at 0x0"),
    cell("cxx_thread_local", "system:system", "scenario", "timeout", finished=None, code=-9, sig=9),
    cell("fault_abort", "system:system", "fault", "error", code=3, reason="exited with code 3"),
]


def make_doc(cells=CELLS):
    counts = {v: sum(1 for c in cells if c["verdict"] == v) for v in report.VERDICTS}
    return {
        "schema": "tlsleak-results/2",
        "harness": {"version": "0.1.0", "commit": "0123456789abcdef0123456789abcdef01234567",
                    "dirty": False},
        "command": ["tlsleak", "run", "--threads", "20000"],
        "started": "2024-11-25T16:02:00+00:00", "finished": "2024-11-25T16:04:00+00:00",
        "duration_s": 120.0, "interrupted": False,
        "host": {"os": "Debian GNU/Linux 12 (bookworm)", "kernel": "6.1.0-26-amd64",
                 "machine": "x86_64", "libc": "glibc 2.36", "cpus": 8, "mem_total": 16 << 30,
                 "thp": "madvise", "python": "3.11.2"},
        "build": {"c_compiler": "GNU 12.2.0", "cxx_compiler": "GNU 12.2.0",
                  "build_type": "Release", "c_flags": "-O2", "cxx_flags": "-O2"},
        "settings": {"threads": 20000, "concurrency": 1, "size": 1024, "interval": 500,
                     "warmup": 0.2, "floor": 128.0, "confidence": 0.95,
                     "sample_interval_s": 0.01, "timeout_s": 120.0},
        "cells": copy.deepcopy(cells),
        "unavailable": [{"config": "snmalloc:static", "id": "snmalloc@0.6:static",
                         "reason": "not found"}],
        "summary": counts,
        "controls": {"passed": True, "failures": []},
        "exit_code": 1,
    }


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(results.SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


# ---------------------------------------------------------------------------------------------
# table


def test_table_has_a_row_per_cell_with_its_verdict():
    text = report.render_table(CELLS)
    lines = text.splitlines()
    for c in CELLS:
        # a cell is identified by scenario and config (its id is SCENARIO-NAME-MODE)
        row = [ln for ln in lines if ln.startswith(c["scenario"] + " ") and c["config"] in ln]
        assert len(row) == 1, c["id"]
        assert row[0].split()[3 if c["role"].startswith("control") else 2] == c["verdict"]


def test_table_details_name_each_unexpected_cell_by_id():
    text = report.render_table(CELLS)
    for c in CELLS:
        expected = vocab.CONTROL_EXPECT.get(c["role"], "ok")
        note = "  %s: %s: " % (c["id"], c["verdict"])
        assert (note in text) == (c["verdict"] != expected), c["id"]
    missed = dict(CELLS[0], verdict="ok", reason="rss flat")  # a positive control that missed
    assert "  control_leak-mimalloc@1.0-override: ok: rss flat" in report.render_table([missed])


def test_table_shows_rate_half_ci_signal_threads_and_time():
    text = report.render_table(CELLS)
    row = next(ln for ln in text.splitlines() if ln.startswith("seed_thread_local"))
    assert "2048 +- 20 (rss)" in row
    assert "20000/20000" in row
    assert "2.5 s" in row
    crash = next(ln for ln in text.splitlines() if ln.startswith("pthread_key_dtor_free"))
    assert "1500/20000" in crash


def test_table_columns_are_aligned():
    lines = report.render_table(CELLS, details=False).splitlines()
    header, rows = lines[0], lines[2:2 + len(CELLS)]
    col = header.index("verdict")
    for ln in rows:
        assert ln[col - 2:col] == "  " and ln[col] != " "
    # right-aligned time column: every row ends at the same place
    assert len({len(ln) for ln in rows}) == 1


def test_table_marks_controls_and_a_failed_control():
    bad = copy.deepcopy(CELLS[0])
    bad["verdict"] = "ok"
    text = report.render_table([bad, CELLS[1]])
    assert "control_leak [ctl+]" in text
    assert "control_flat [ctl-]" in text
    ctl_leak = next(ln for ln in text.splitlines() if ln.startswith("control_leak"))
    ctl_flat = next(ln for ln in text.splitlines() if ln.startswith("control_flat"))
    assert "ok !" in ctl_leak
    assert "!" not in ctl_flat


def test_table_summary_counts():
    text = report.render_table(CELLS)
    assert "7 cells: 1 ok, 2 leak, 1 inconclusive, 1 crash, 1 timeout, 1 error" in text


def test_table_is_plain_ascii_without_colour_and_coloured_with_it():
    plain = report.render_table(CELLS)
    assert "\x1b[" not in plain
    plain.encode("ascii")
    coloured = report.render_table(CELLS, color=True)
    assert "\x1b[1;31mleak" in coloured and "\x1b[32mok" in coloured


def test_table_details_give_the_reason_of_cells_that_are_not_ok():
    text = report.render_table(CELLS)
    assert "rss 130 B/thread (95% CI 70..190) straddles floor 128" in text
    assert "killed by SIGSEGV" in text
    assert "ok because" not in text
    assert "killed by SIGSEGV" not in report.render_table(CELLS, details=False)


def test_table_of_nothing():
    assert "0 cells: 0 ok" in report.render_table([])


# ---------------------------------------------------------------------------------------------
# results.json and its schema


def test_results_doc_validates(validator):
    validator.validate(make_doc())


def test_results_from_a_real_judgement_validate(validator):
    lines = ["TLSLEAK/1 cp done=%d t_ns=%d rss=%d maps=40" % (x, x, 4 << 20 | 0) for x in
             range(0, 20001, 500)]
    log = CheckpointLog.from_lines(lines, 0.5)
    judged = judge_signals(log)
    c = copy.deepcopy(CELLS[1])
    c.update(verdict=judged.verdict, reason=judged.reason, signal=judged.signal,
             rate=judged.rate.to_dict(), signals=judged.signals_dict(), checkpoints=log.checkpoints)
    validator.validate(make_doc([c]))


@pytest.mark.parametrize("mutate, where", [
    (lambda d: d["cells"][0].update(verdict="leaky"), "verdict"),
    (lambda d: d["cells"][0].update(role="control"), "role"),
    (lambda d: d["cells"][0]["rate"].pop("unit"), "unit"),
    (lambda d: d["cells"][0]["rate"].update(unit="B"), "unit"),
    (lambda d: d["cells"][0]["rate"].update(ci=[1.0]), "ci"),
    (lambda d: d["cells"][0].update(id="seed-mimalloc-override"), "id"),
    (lambda d: d["cells"][0]["signals"]["rss"].update(verdict="crash"), "verdict"),
    (lambda d: d["cells"][0].pop("threads"), "threads"),
    (lambda d: d["cells"][0]["exit"].update(code="0"), "code"),
    (lambda d: d.update(schema="tlsleak-results/1"), "schema"),
    (lambda d: d["summary"].pop("timeout"), "timeout"),
    (lambda d: d["settings"].update(threads=2.5), "threads"),
    (lambda d: d.pop("controls"), "controls"),
    (lambda d: d["host"].update(cpus="8"), "cpus"),
    (lambda d: d.update(started="yesterday"), "started"),
    (lambda d: d["cells"][0]["checkpoints"][0].pop("done"), "done"),
])
def test_invalid_docs_fail_validation(validator, mutate, where):
    doc = make_doc()
    mutate(doc)
    errors = list(validator.iter_errors(doc))
    assert errors

    def texts(errs):
        for e in errs:
            yield e.message + " " + "/".join(map(str, e.absolute_path))
            yield from texts(e.context)
    assert any(where in t for t in texts(errors)), [e.message for e in errors]


def test_schema_allows_fields_added_later(validator):
    doc = make_doc()
    doc["cells"][0]["new_field"] = {"anything": [1, 2]}
    doc["new_top"] = 1
    doc["cells"][0]["rate"]["method"] = "theil-sen"
    validator.validate(doc)


def test_write_results_is_atomic_and_keeps_key_order(tmp_path):
    path = tmp_path / "out" / "results.json"
    doc = make_doc()
    report.write_results(path, doc)
    text = path.read_text()
    assert json.loads(text) == json.loads(json.dumps(doc))
    assert text.index('"schema"') < text.index('"harness"') < text.index('"cells"')
    assert '\n  "harness": {' in text  # indent 2
    assert os.listdir(path.parent) == ["results.json"]  # no temporary file left
    assert (path.stat().st_mode & 0o777) == 0o644


def test_write_results_replaces_and_never_writes_nan(tmp_path):
    path = tmp_path / "results.json"
    path.write_text("old")
    doc = make_doc()
    doc["duration_s"] = float("nan")
    report.write_results(path, doc)
    assert json.loads(path.read_text())["duration_s"] is None


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    path.write_text("old")

    def broken_replace(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(report.os, "replace", broken_replace)
    with pytest.raises(OSError):
        report.write_results(path, make_doc())
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["results.json"]


# ---------------------------------------------------------------------------------------------
# JUnit


def junit(tmp_path, cells=CELLS):
    path = tmp_path / "junit.xml"
    report.write_junit(path, make_doc(cells))
    root = ET.parse(path).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    return suite, {case.get("name"): case for case in suite.iter("testcase")}


def outcome(case):
    kids = [k.tag for k in case if k.tag in ("failure", "error", "skipped")]
    assert len(kids) <= 1
    return kids[0] if kids else "pass"


def test_junit_maps_verdicts(tmp_path):
    suite, cases = junit(tmp_path)
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
    _, cases = junit(tmp_path)
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
    _, cases = junit(tmp_path, bad)
    assert outcome(cases["control_leak-mimalloc@1.0-override"]) == "failure"
    assert outcome(cases["control_flat-system"]) == "failure"


def test_junit_survives_control_characters_in_stderr(tmp_path):
    _, cases = junit(tmp_path)
    err = cases["pthread_key_dtor_free-tcmalloc@1.0-static"].find("system-err").text
    assert "Segmentation fault" in err and "\\x1b" in err and "\\x00" in err


def test_junit_write_is_atomic(tmp_path):
    report.write_junit(tmp_path / "junit.xml", make_doc())
    assert os.listdir(tmp_path) == ["junit.xml"]


def test_a_rate_in_another_unit_than_the_column_says_its_unit():
    """An --exec program without checkpoints is measured in B/s: the table must not show it as
    B/thread."""
    c = cell("prog", "system:system", "exec", "inconclusive", r=rate(2048, 10))
    c["rate"]["unit"] = "B/s"
    row = next(line for line in report.render_table([c]).splitlines() if line.startswith("prog"))
    assert "2048 +- 10 B/s (rss)" in row
    c["rate"]["unit"] = "B/thread"
    assert "2048 +- 10 (rss)" in report.render_table([c])
