"""Sharding a plan (`run --shard K/N`), merging the shards (`merge`), the plan's fingerprint,
the progress display, the latest-run link, and what the JUnit XML and the reports say of a
cell, on synthetic plans and the recorded run (tests/data/report/results.json)."""
import copy
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from tlsleak import UsageError, cli, html_report, merge, progress, report, shard, summary_md
from tlsleak.settings import Settings

pytestmark = pytest.mark.unit

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "report" / "results.json"


@dataclass(frozen=True)
class FakeCell:
    id: str
    role: str = "scenario"


def synthetic_plan():
    """16 scenarios x 13 configurations, the controls first, as session.plan orders them."""
    confs = ["system"] + [f"alloc{i}@1.{i}-{m}" for i in range(4) for m in
                          ("static", "dynamic", "override")]
    roles = {"control_leak": "control-leak", "control_flat": "control-flat",
             "thread_pool": "control-flat"}
    scen = list(roles) + [f"scenario{i:02d}" for i in range(13)]
    return [FakeCell(f"{s}-{c}", roles.get(s, "scenario")) for s in scen for c in confs]


@pytest.fixture
def doc():
    return json.loads(FIXTURE.read_text())


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_shards_cover_every_cell_once_and_every_shard_has_the_controls(n):
    cells = synthetic_plan()
    controls = [c for c in cells if c.role != "scenario"]
    shards = [shard.select(cells, k, n) for k in range(1, n + 1)]
    dealt = [c.id for s in shards for c in s if c.role == "scenario"]
    assert sorted(dealt) == sorted(c.id for c in cells if c.role == "scenario")  # once each
    for s in shards:
        assert [c for c in s if c.role != "scenario"] == controls
        assert s == [c for c in cells if c in s]  # plan order kept
    sizes = [len(s) for s in shards]
    assert max(sizes) - min(sizes) <= 1


def test_a_shard_is_the_same_whatever_the_plan_order():
    cells = synthetic_plan()
    ids = {c.id for c in shard.select(cells, 2, 3)}
    assert ids == {c.id for c in shard.select(list(reversed(cells)), 2, 3)}


@pytest.mark.parametrize("text", ["0/2", "3/2", "2", "a/b", "1/0", "-1/2", ""])
def test_a_malformed_shard_is_refused(text):
    with pytest.raises(UsageError, match="malformed --shard"):
        shard.parse(text)


def test_fingerprint_follows_cells_and_measuring_settings_not_the_limits():
    cells, s = synthetic_plan(), Settings()
    base = shard.fingerprint(cells, s)
    assert shard.fingerprint(list(reversed(cells)), s) == base
    assert shard.fingerprint(cells[1:], s) != base
    assert shard.fingerprint(cells, replace(s, workload=replace(s.workload, threads=2000))) != base
    assert shard.fingerprint(cells, replace(s, criteria=replace(s.criteria, floor=64))) != base
    assert shard.fingerprint(cells, replace(s, limits=s.limits.with_machine_caps(7))) == base


# ---------------------------------------------------------------------------------------------
# merge


def split(doc, n):
    """The recorded run as n shards of one plan, dealt as --shard would."""
    cells = [FakeCell(c["id"], c["role"]) for c in doc["cells"]]
    doc["plan"] = {"fingerprint": "0123456789abcdef", "cells": len(cells), "shard": None,
                   "selected": len(cells),
                   "scenarios": list(dict.fromkeys(c["scenario"] for c in doc["cells"])),
                   "configs": list(dict.fromkeys(c["allocator"]["id"] for c in doc["cells"]))}
    parts = []
    for k in range(1, n + 1):
        ids = {c.id for c in shard.select(cells, k, n)}
        part = copy.deepcopy(doc)
        part["cells"] = [c for c in part["cells"] if c["id"] in ids]
        part["plan"].update(shard=[k, n], selected=len(ids))
        parts.append((f"shard{k}.json", part))
    return parts


def test_merged_shards_are_the_unsharded_run(doc):
    merged = merge.merge(split(copy.deepcopy(doc), 3), ["merge"])
    assert [c["id"] for c in merged["cells"]] == [c["id"] for c in doc["cells"]]
    assert merged["summary"] == doc["summary"]
    assert merged["controls"]["passed"] and merged["plan"]["merged"] == [[1, 3], [2, 3], [3, 3]]
    assert merged["exit_code"] == doc["exit_code"]
    assert merged["baseline"]["known"] == doc["baseline"]["known"]
    assert merge.missing_shards(merged) == []


def test_a_missing_shard_is_named(doc):
    parts = split(copy.deepcopy(doc), 3)
    merged = merge.merge([parts[0], parts[2]])
    assert merge.missing_shards(merged) == ["2/3"]


def test_a_control_that_failed_in_any_shard_fails_the_merge(doc):
    parts = split(copy.deepcopy(doc), 2)
    parts[1][1]["controls"] = {"passed": False, "failures": ["control_flat-system: expected ok"]}
    merged = merge.merge(parts)
    assert not merged["controls"]["passed"] and merged["exit_code"] == 3


def test_shards_of_different_plans_are_refused_in_one_line(doc):
    parts = split(copy.deepcopy(doc), 2)
    parts[1][1]["plan"]["fingerprint"] = "fedcba9876543210"
    with pytest.raises(UsageError, match="shards of different plans"):
        merge.merge(parts)


def test_a_cell_in_two_shards_is_refused(doc):
    parts = split(copy.deepcopy(doc), 2)
    parts[1][1]["cells"].append(copy.deepcopy(parts[0][1]["cells"][-1]))
    parts[1][1]["plan"]["shard"] = None
    with pytest.raises(UsageError, match="is in both"):
        merge.merge(parts)


def test_the_same_shard_twice_is_refused(doc):
    parts = split(copy.deepcopy(doc), 2)
    with pytest.raises(UsageError, match="both shard 1/2"):
        merge.merge([parts[0], parts[0]])


def test_merge_cli_refuses_different_plans_with_exit_2_and_writes_nothing(doc, tmp_path,
                                                                         capsys):
    files = []
    for name, part in split(copy.deepcopy(doc), 2):
        files.append(tmp_path / name)
        files[-1].write_text(json.dumps(part))
    other = json.loads(files[1].read_text())
    other["plan"]["fingerprint"] = "fedcba9876543210"
    files[1].write_text(json.dumps(other))
    rc = cli.main(["merge", *map(str, files), "--out", str(tmp_path / "m")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "different plans" in err[0]
    assert not (tmp_path / "m").exists()


# ---------------------------------------------------------------------------------------------
# progress, latest, junit, interrupted


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


def test_latest_is_replaced_by_the_newest_run(tmp_path):
    link = tmp_path / "latest"
    for name in ("run1", "run2"):
        (tmp_path / name).mkdir()
        report.point_latest(tmp_path / name, link)
        assert link.resolve() == (tmp_path / name).resolve()
    assert not link.readlink().is_absolute()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_every_junit_case_carries_the_full_command_with_the_preload(doc):
    doc["cells"][0]["env"] = {"LD_PRELOAD": "/usr/lib/libx.so"}
    root = report.junit_tree(doc).getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == len(doc["cells"])
    for case, c in zip(cases, doc["cells"]):
        prop = case.find("properties/property[@name='command']").get("value")
        assert prop == report.command_line(c) and c["command"][0] in prop
        assert "command: " + prop in case.find("system-out").text
    assert report.command_line(doc["cells"][0]).startswith("env LD_PRELOAD=/usr/lib/libx.so ")
    ET.fromstring(ET.tostring(root))  # well-formed


def test_an_interrupted_run_says_so_in_the_summary_and_the_page(doc):
    doc["interrupted"] = True
    doc["plan"]["selected"] = 12
    said = "INTERRUPTED: 7 of 12 planned cells finished"
    assert said in report.interrupted_text(doc)
    assert said in summary_md.summary_markdown(doc)
    assert said in html_report.html_report(doc)
