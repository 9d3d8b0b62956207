"""The CLI as a user meets it: bad input, listing, bring-your-own program, fallback detection."""
import json

import pytest

from clihelp import ROOT, cell, run_cli
from tlsleak import configs, pipeline, settings
from tlsleak.build import Build

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("args, says", [
    (["run", "-s", "no_such_scenario"], "unknown scenario 'no_such_scenario'"),
    (["run", "-a", "nosuchalloc"], "unknown allocator 'nosuchalloc'"),
    (["run", "-a", "mimalloc:shared"], "unknown mode 'shared'"),
    (["run", "-a", "mimalloc@0.0.1"], "no mimalloc version '0.0.1'"),
    (["run", "-a", "mimalloc::x"], "malformed configuration"),
    (["run", "--threads", "-5"], "argument --threads"),
    (["run", "--threads", "many"], "'many' is not an integer"),
    (["run", "--concurrency", "0"], "out of range"),
    (["run", "--threads", "999999999999"], "out of range"),
    (["run", "-j", "0"], "out of range"),
    (["run", "--max-rss=-1G"], "must be positive"),
    (["run", "--timeout", "nan"], "out of range"),
    (["run", "--confidence", "1.5"], "out of range"),
    (["run", "--repo", "faulty=/nonexistent/dir"], "is not a directory"),
    (["run", "-a", "faulty@dir:/nonexistent/dir:static"], "no such directory"),
    (["run", "--exec"], "--exec needs a command"),
    (["run", "--shard", "3/2"], "malformed --shard"),
    (["run", "--shard", "1/2", "--write-baseline", "/tmp/b.json"], "not a shard"),
    (["show"], "required: CELL"),
    (["merge", "a.json"], "required: --out"),
    (["report", "/nonexistent/results.json"], "No such file"),
    (["frobnicate"], "invalid choice"),
], ids=lambda v: "-".join(v) if isinstance(v, list) else None)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, args, says):
    out = tmp_path / "out"
    if args[0] == "run":
        args = ["run", "--out", str(out), *args[1:]]
    r = run_cli(*args)
    assert r.rc == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], r.stderr
    assert r.stdout == ""
    assert not out.exists()


def test_unwritable_output_folder_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run_cli("run", "-s", "control_flat", "--out", blocker / "sub")
    assert r.rc == 2 and "cannot be written" in r.stderr


def test_list_shows_scenarios_with_reports_and_configurations(cli):
    r = cli("list", "--configure")
    assert r.rc == 0
    assert "seed_thread_local" in r.stdout and "mimalloc #944" in r.stdout
    assert "system" in r.stdout.split("Allocator configurations:")[1]
    doc = json.loads(cli("list", "--json").stdout)  # configured now: no --configure needed
    assert {s["name"] for s in doc["scenarios"]} >= {
        "seed_thread_local", "tss_dtor_free", "pthread_key_dtor_free", "control_flat",
        "control_leak"}
    assert doc["configured"] and doc["configs"]
    for c in doc["configs"]:
        assert c["available"] or c["reason"], c["id"]


def test_list_on_a_tree_never_configured_says_so_and_configures_nothing(tmp_path):
    """Which configurations a machine has is CMake's finding: list does not guess them, nor
    starts a configure (set-up, CMake) to answer; the scenarios come from their headers."""
    build = tmp_path / "build"
    r = run_cli("list", "--build-dir", build)
    assert r.rc == 0, r.stderr
    assert "seed_thread_local" in r.stdout and "mimalloc #944" in r.stdout
    assert "fls_callback_free" in r.stdout and "(windows only)" in r.stdout
    assert "Allocator configurations: not configured yet" in r.stdout
    doc = json.loads(run_cli("list", "--json", "--build-dir", build).stdout)
    assert doc["configured"] is False and doc["configs"] is None
    assert "control_flat" in {s["name"] for s in doc["scenarios"]}
    assert not build.exists()


def test_exec_measures_any_program_under_an_override(tmp_path, listing):
    system_bin = next(c["bin_dir"] for c in listing["configs"] if c["id"].startswith("system"))
    r = run_cli("run", "--out", tmp_path, "-a", "system", "-a", "mimalloc:override",
                "--exec", "--", f"{system_bin}/control_leak", "--threads", "8000")
    assert r.rc == 1, r.stdout + r.stderr
    doc = json.loads((tmp_path / "results.json").read_text())
    assert [c["verdict"] for c in doc["cells"]] == ["leak", "leak"]
    mi = cell(doc, "control_leak", "mimalloc:override")
    assert mi["observed_allocator"]["name"] == "mimalloc"
    assert mi["command"] == [f"{system_bin}/control_leak", "--threads", "8000"]


def test_a_silent_fallback_to_the_system_allocator_is_an_error():
    """A mimalloc cell whose process is really served by glibc must not pass."""
    manifest = Build().configure()
    confs = configs.label_all([configs.Config.from_manifest(c) for c in manifest["configs"]])
    mi = next(c for c in confs if c.id.startswith("mimalloc") and c.mode == "override")
    system = next(c for c in confs if c.name == "system")
    Build().build([system.target])
    # The system binary run as if it were a mimalloc dynamic cell: nothing loads mimalloc.
    fake = configs.Config(**{**mi.__dict__, "mode": "dynamic", "preload": ""})
    c = pipeline.Cell(id="control_flat-fallback", scenario="control_flat", role="control-flat",
                      config=fake, argv=[f"{system.bin_dir}/control_flat", "--threads", "2000"],
                      expect="mimalloc")
    res = pipeline.judge_cell(c, settings.make(threads=2000))
    assert res["verdict"] == "error"
    assert "allocator check failed" in res["reason"] and "system" in res["reason"]
    assert ROOT.exists()
