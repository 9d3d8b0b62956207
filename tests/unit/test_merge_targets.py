"""Merging runs of different targets into one report: a native Linux run and a run of the
Windows programs under Wine (`--platform wine`) are different plans by nature, so `merge`
keeps them side by side (ids prefixed with the target, each target's own settings, host and
controls kept) instead of refusing them, while runs of one target must still be shards of one
plan. On two recorded runs: tests/data/report/results.json (native, written before results
recorded their target) and tests/data/report/wine-results.json (`tlsleak run --platform wine -s
control_leak -s control_flat -s seed_thread_local -a system -a mimalloc:static --threads 1000`).
"""
import copy
import json
from pathlib import Path

import jsonschema
import pytest

from tlsleak import (UsageError, cellinfo, cli, html_report, merge, plots, results,
                     summary_md, target, vocab)

pytestmark = pytest.mark.unit

DATA = Path(__file__).resolve().parents[1] / "data" / "report"
WINE = "windows-x86_64-wine"
LINUX = "linux-x86_64"


@pytest.fixture
def native():
    return json.loads((DATA / "results.json").read_text())


@pytest.fixture
def wine():
    return json.loads((DATA / "wine-results.json").read_text())


@pytest.fixture
def merged(native, wine):
    return merge.merge([("native.json", native), ("wine.json", wine)], ["merge", "..."])


def test_target_labels_name_os_processor_and_a_platform_other_than_native():
    assert target.label("linux", "x86_64") == LINUX
    assert target.label("windows", "AMD64", "wine") == WINE
    assert target.label("macos", "aarch64") == "macos-arm64"


def test_a_file_without_a_recorded_target_has_it_read_from_its_build_and_command(native, wine):
    assert "target" not in native  # written before the target was recorded
    assert results.target_of(native)["label"] == LINUX
    assert results.target_of(wine) == wine["target"]
    assert wine["target"]["label"] == WINE and {c["target"] for c in wine["cells"]} == {WINE}


def test_two_targets_sit_side_by_side_with_their_ids_prefixed(native, wine, merged):
    want = [f"{LINUX}/{c['id']}" for c in native["cells"]] + \
        [f"{WINE}/{c['id']}" for c in wine["cells"]]
    assert [c["id"] for c in merged["cells"]] == want
    assert len(set(want)) == len(want)
    assert [p["target"]["label"] for p in merged["parts"]] == [LINUX, WINE]
    assert {c["target"] for c in merged["cells"]} == {LINUX, WINE}
    assert sum(merged["summary"].values()) == len(native["cells"]) + len(wine["cells"])
    jsonschema.validate(merged, json.loads(results.SCHEMA_PATH.read_text()))


def test_each_target_keeps_its_own_settings_host_and_command(native, wine, merged):
    linux, win = merged["parts"]
    assert linux["settings"] == native["settings"] and win["settings"] == wine["settings"]
    assert linux["settings"]["threads"] != win["settings"]["threads"]  # 2000 and 1000
    assert win["commands"] == [wine["command"]] and linux["host"] == native["host"]
    leak = next(c for c in merged["cells"] if c["id"].endswith("seed_thread_local-"
                                                                "mimalloc@2.0.9-static"))
    assert cellinfo.settings_of(merged, leak) == wine["settings"]
    cmd = cellinfo.tlsleak_command(merged, leak)
    assert "--platform wine" in cmd and "--threads 1000" in cmd, cmd
    native_cell = merged["cells"][0]
    assert "--platform" not in cellinfo.tlsleak_command(merged, native_cell)


def test_a_cell_is_compared_with_the_controls_of_its_own_target(merged):
    for cell in merged["cells"]:
        beside = cellinfo.controls_for(merged, cell)
        assert beside and {c["target"] for c in beside} == {cell["target"]}, cell["id"]


def test_controls_and_exit_code_cover_both_targets(native, wine, merged):
    assert merged["controls"]["passed"] == (native["controls"]["passed"]
                                            and wine["controls"]["passed"])
    # The Wine run's static mimalloc leaks in the seed scenario: a finding, exit 1.
    assert merged["exit_code"] == 1
    failed = copy.deepcopy(wine)
    failed["controls"] = {"passed": False, "failures": ["control_flat-system: expected ok"],
                          "invalid_configs": [{"config": "system", "why": "grows"}]}
    m = merge.merge([("n", native), ("w", failed)])
    assert not m["controls"]["passed"] and m["exit_code"] == 3
    assert m["controls"]["failures"] == [f"{WINE}/control_flat-system: expected ok"]
    assert m["controls"]["invalid_configs"] == [{"config": f"{WINE}/system", "why": "grows"}]


def test_each_target_names_the_baseline_it_was_compared_with(native, wine):
    native, wine = copy.deepcopy(native), copy.deepcopy(wine)
    empty = {"new": [], "fixed": [], "known": [], "changed": [], "unknown_cell": []}
    native["baseline"] = {**empty, "file": "results/baseline/linux-x86_64-glibc.json",
                          "known": ["control_leak-system"]}
    wine["baseline"] = {**empty, "file": "results/baseline/windows-x86_64-wine.json",
                        "new": ["seed_thread_local-mimalloc@2.0.9-static"]}
    m = merge.merge([("n", native), ("w", wine)])
    assert m["baseline"]["file"] == (f"{LINUX}: results/baseline/linux-x86_64-glibc.json; "
                                     f"{WINE}: results/baseline/windows-x86_64-wine.json")
    assert m["baseline"]["new"] == [f"{WINE}/seed_thread_local-mimalloc@2.0.9-static"]
    assert [p["baseline_file"] for p in m["parts"]] == [
        "results/baseline/linux-x86_64-glibc.json", "results/baseline/windows-x86_64-wine.json"]
    md = summary_md.summary_markdown(m)
    assert "linux-x86_64-glibc.json" in md and "windows-x86_64-wine.json" in md


def test_the_grid_has_a_column_per_target_and_configuration_and_every_cell(merged):
    scenarios, columns, where = plots.grid_axes(merged)
    assert f"{WINE} system" in columns and f"{LINUX} system" in columns
    assert sorted(id(c) for c in where.values()) == sorted(id(c) for c in merged["cells"])
    html = html_report.html_report(merged, pngs={})
    for c in merged["cells"]:
        assert 'data-cell="%s"' % c["id"] in html
    md = summary_md.summary_markdown(merged)
    assert WINE in md and LINUX in md


def test_shards_of_one_target_merge_beside_another_target_and_a_missing_one_is_named(
        native, wine):
    shards = []
    for k in (1, 2):
        part = copy.deepcopy(native)
        part["plan"]["shard"] = [k, 2]
        part["cells"] = [c for i, c in enumerate(part["cells"])
                         if vocab.is_control(c["role"]) or i % 2 == k - 1]
        shards.append((f"shard{k}.json", part))
    m = merge.merge([*shards, ("wine.json", wine)])
    assert sorted(c["id"] for c in m["cells"] if c["target"] == LINUX) == \
        sorted(f"{LINUX}/{c['id']}" for c in native["cells"])
    assert m["parts"][0]["plan"]["merged"] == [[1, 2], [2, 2]]
    assert merge.missing_shards(m) == []
    m = merge.merge([shards[1], ("wine.json", wine)])
    assert merge.missing_shards(m) == [f"{LINUX} 1/2"]


def test_runs_of_one_target_with_different_plans_are_still_refused(native, wine):
    other = copy.deepcopy(wine)
    other["plan"]["fingerprint"] = "fedcba9876543210"
    with pytest.raises(UsageError, match="shards of different plans"):
        merge.merge([("n", native), ("w1", wine), ("w2", other)])


def test_one_target_merged_alone_keeps_its_ids(wine):
    m = merge.merge([("w", wine)])
    assert [c["id"] for c in m["cells"]] == [c["id"] for c in wine["cells"]]
    assert "parts" not in m and m["target"] == wine["target"]


def test_a_merge_of_several_targets_is_not_merged_again(merged, wine):
    with pytest.raises(UsageError, match="already a merge of several targets"):
        merge.merge([("all.json", merged), ("wine.json", wine)])


def test_a_merge_that_cannot_be_written_says_so_in_one_line_after_its_summary(tmp_path, capsys):
    """A full disk or a folder in the way: exit 3, one line, the summary already printed, and
    junit.xml still written (was an 'internal error' with nothing said)."""
    out = tmp_path / "m"
    (out / "results.json").mkdir(parents=True)
    rc = cli.main(["merge", str(DATA / "results.json"), str(DATA / "wine-results.json"),
                   "--out", str(out), "--no-report"])
    said = capsys.readouterr()
    assert rc == 3 and "merged 2 file(s)" in said.out
    lines = said.err.strip().splitlines()
    assert len(lines) == 1 and "could not write results.json" in lines[0], said.err
    assert (out / "junit.xml").is_file()
