"""Combining results (merge.py, `tlsleak merge`): the shards of one plan into the unsharded
run, and runs of different targets side by side (a native Linux run and a run of the Windows
programs under Wine are different plans by nature: ids prefixed with the target, each
target's own settings, host and controls kept), on the recorded runs (resultsdocs.py); and
an output folder that holds another run, or one of the inputs, refused unless --overwrite."""
import copy
import json
from collections import namedtuple

import jsonschema
import pytest

from resultsdocs import RECORDED, WINE_RECORDED, hostile_doc, recorded, wine_recorded
from tlsleak import (UsageError, cellinfo, cli, html_report, merge, plots, results, shard,
                     summary_md, table, target, vocab)

pytestmark = pytest.mark.unit

WINE = "windows-x86_64-wine"
LINUX = "linux-x86_64"
FakeCell = namedtuple("FakeCell", "id role")  # what shard.select reads of a planned cell


def no_plots(doc):
    """Cell plots already drawn (empty): the page without drawing any, for tests of its text."""
    return {c["id"]: b"" for c in doc["cells"]}


@pytest.fixture
def native():
    return recorded()


@pytest.fixture
def wine():
    return wine_recorded()


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
    html = html_report.html_report(merged, pngs=no_plots(merged))
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
    other["run_id"] = "another-run"
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
    rc = cli.main(["merge", str(RECORDED), str(WINE_RECORDED), "--out", str(out),
                   "--no-report", "--overwrite"])
    said = capsys.readouterr()
    assert rc == 3 and "merged 2 file(s)" in said.out
    lines = said.err.strip().splitlines()
    assert len(lines) == 1 and "could not write results.json" in lines[0], said.err
    assert (out / "junit.xml").is_file()


# ---------------------------------------------------------------------------------------------
# shards of one plan


@pytest.fixture
def doc():
    return recorded()


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


def test_an_interrupted_run_says_so_in_the_summary_and_the_page(doc):
    doc["interrupted"] = True
    doc["plan"]["selected"] = 12
    said = "INTERRUPTED: 7 of 12 planned cells finished"
    assert said in table.interrupted_text(doc)
    assert said in summary_md.summary_markdown(doc)
    assert said in html_report.html_report(doc, pngs=no_plots(doc))


# ---------------------------------------------------------------------------------------------
# the output folder and the inputs


def shard_files(doc, tmp_path):
    files = []
    for name, part in split(copy.deepcopy(doc), 2):
        files.append(tmp_path / name)
        files[-1].write_text(json.dumps(part))
    return files


def test_merge_refuses_a_folder_holding_another_run_unless_overwrite(doc, tmp_path, capsys):
    files = shard_files(doc, tmp_path)
    out = tmp_path / "m"
    out.mkdir()
    (out / "results.json").write_text(json.dumps(doc))
    before = (out / "results.json").read_text()
    rc = cli.main(["merge", *map(str, files), "--out", str(out), "--no-report"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "holds another run's results.json" in err[0]
    assert (out / "results.json").read_text() == before
    rc = cli.main(["merge", *map(str, files), "--out", str(out), "--no-report", "--overwrite"])
    assert rc == doc["exit_code"] and results.load(out)["plan"]["merged"] == [[1, 2], [2, 2]]


def test_merge_refuses_to_write_over_one_of_its_inputs(doc, tmp_path, capsys):
    files = shard_files(doc, tmp_path)
    folder = tmp_path / "shard1"
    folder.mkdir()
    files[0].rename(folder / "results.json")
    before = (folder / "results.json").read_text()
    rc = cli.main(["merge", str(folder), str(files[1]), "--out", str(folder), "--no-report"])
    err = capsys.readouterr().err
    assert rc == 2 and "holds one of the inputs, results.json" in err
    assert (folder / "results.json").read_text() == before


def test_merge_refuses_a_view_it_did_not_write(doc, tmp_path, capsys):
    files = shard_files(doc, tmp_path)
    out = tmp_path / "m"
    out.mkdir()
    (out / "summary.md").write_text("# our release notes\n")
    rc = cli.main(["merge", *map(str, files), "--out", str(out)])
    assert rc == 2 and "summary.md is not tlsleak's" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["summary.md"]


def test_the_same_run_given_twice_is_refused(doc):
    doc["run_id"] = "20260101-000000-1-abcd"
    with pytest.raises(UsageError, match="are the same run"):
        merge.merge([("a.json", doc), ("b.json", copy.deepcopy(doc))])


@pytest.mark.parametrize("content", ["", "[]", "null", '{"schema": "tlsleak-baseline/2"}'])
def test_an_input_that_is_not_a_results_file_is_one_line_exit_2(doc, tmp_path, capsys,
                                                                   content):
    files = shard_files(doc, tmp_path)
    files[1].write_text(content)
    rc = cli.main(["merge", *map(str, files), "--out", str(tmp_path / "m")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and str(files[1]) in err[0]
    assert not (tmp_path / "m").exists()


def test_merged_output_shows_program_text_never_sends_it(tmp_path, capsys):
    """What merge prints comes from its input files: their ids and failures are shown."""
    doc = hostile_doc()
    doc["plan"] = {"fingerprint": "0123456789abcdef", "cells": 7, "shard": None, "selected": 7}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc))
    cli.main(["merge", str(path), "--out", str(tmp_path / "m"), "--no-report"])
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b[2J" in out
    assert results.load(tmp_path / "m")["cells"][2]["id"] == doc["cells"][2]["id"]
