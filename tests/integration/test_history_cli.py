"""`tlsleak history` for real (builds, cells) on the scripted history of the `faulty` allocator
(faultyrepo.py), tagged as an untidy release line is: v1.0.0 and v1.1.0 clean, v1.1.1 on a
leaking commit, v1.1.2 on a commit that does not compile, v1.2.0 fixed. The flips are found
between the judged releases and the bisect command printed for each finds the right commit;
the release that does not build is a row of the table, a point of the history block and a mark
of the chart, never dropped; the shards of a history merge into what one run gives; an
interrupt keeps the cells already measured (exit 130). The views' logic alone, on given
results: tests/unit/test_historyview.py, tests/unit/test_releases.py."""
import json
import os
import shlex
import signal
import subprocess

import psutil
import pytest

from clihelp import ROOT, run_cli
from faultyrepo import git, make_faulty_repo
from procs import harness_of, started, wait_until

pytestmark = pytest.mark.integration

SCENARIO = "last_round_alloc"
FAST = ["-s", SCENARIO, "--threads", "200", "--no-controls"]


@pytest.fixture(scope="module")
def tagged(tmp_path_factory):
    """(repo, commits): faultyrepo's history with v1.1.1 on `notes` (leaking, one commit after
    the leak) and v1.1.2 on `broken` (does not compile)."""
    repo = tmp_path_factory.mktemp("history") / "faulty"
    commits = make_faulty_repo(repo)
    git(repo, "tag", "v1.1.1", commits["notes"])
    git(repo, "tag", "v1.1.2", commits["broken"])
    return repo, commits


@pytest.fixture(scope="module")
def history(tagged, tmp_path_factory):
    repo, _ = tagged
    out = tmp_path_factory.mktemp("history-out") / "out"
    return run_cli("history", "--repo", repo, "-a", "faulty:static", "--tags", "v1.*", *FAST,
                   out=out)


def _rows(stdout):
    return {line.split()[0]: line for line in stdout.splitlines()
            if line.startswith("v1.")}


def test_the_table_has_every_release_in_version_order_the_broken_one_shown(history):
    assert history.rc == 1, history.stdout + history.stderr  # a release leaks
    rows = _rows(history.stdout)
    assert list(rows) == ["v1.0.0", "v1.1.0", "v1.1.1", "v1.1.2", "v1.2.0"]
    assert rows["v1.0.0"].split()[2] == "ok" and rows["v1.1.0"].split()[2] == "ok"
    assert rows["v1.1.1"].split()[2] == "leak" and rows["v1.2.0"].split()[2] == "ok"
    # the first error line of the compiler, not the command line that ran it
    assert "does not build: faulty.c:" in rows["v1.1.2"] and "error:" in rows["v1.1.2"]
    doc = history.doc
    rel = {r["ref"]: r for r in doc["history"]["releases"]}
    assert rel["v1.1.2"]["built"] is False and rel["v1.1.2"]["error"].startswith("faulty.c:")
    assert [r["ref"] for r in doc["history"]["releases"]] == list(rows)
    assert doc["history"]["order"] == "version"
    # every cell records the release's commit
    commits = {i: r["commit"] for r in doc["history"]["releases"] for i in r["ids"] or []}
    for c in doc["cells"]:
        assert c["allocator"]["commit"] == commits[c["allocator"]["id"]]
    for view in ("history.md", "history.html", "plots/history.png", "plots/history.svg"):
        assert (history.out / view).stat().st_size > 0
    assert "does not build" in (history.out / "history.md").read_text()


def _commands(stdout):
    return [line.strip() for line in stdout.splitlines() if line.strip().startswith(
        "tlsleak bisect ")]


def test_each_flip_has_a_bisect_command_that_finds_its_commit(history, tagged):
    repo, commits = tagged
    cmds = _commands(history.stdout)
    assert len(cmds) == 2, history.stdout
    leak, fix = (shlex.split(c) for c in cmds)
    assert leak[leak.index("--good") + 1] == "v1.1.0" and leak[leak.index("--bad") + 1] == "v1.1.1"
    # the fix is found across the release that does not build, as git bisect skips it
    assert fix[fix.index("--good") + 1] == "v1.1.1" and fix[fix.index("--bad") + 1] == "v1.2.0"
    assert "--find-fix" in fix and "--find-fix" not in leak
    r = run_cli(*leak[1:])
    assert r.rc == 0, r.stdout + r.stderr
    assert f"first commit that introduced the leak: {commits['leak']} leak" in r.stdout
    r = run_cli(*fix[1:])
    assert r.rc == 0, r.stdout + r.stderr
    assert f"first commit that fixed the leak: {commits['fix']} fix" in r.stdout


def _same(doc):
    """What a history measured, without what differs from run to run (times, run ids)."""
    rel = [{k: v for k, v in r.items() if k not in ("build_s", "reused")}
           for r in doc["history"]["releases"]]
    return {"history": {**doc["history"], "releases": rel},
            "cells": [(c["id"], c["allocator"]["commit"], c["verdict"]) for c in doc["cells"]],
            "fingerprint": doc["plan"]["fingerprint"]}


def test_shards_merge_into_what_one_run_gives(tagged, tmp_path):
    repo, _ = tagged
    common = ["history", "--repo", repo, "-a", "faulty:static", "--range", "v1.1.0..main",
              "--every", "2", *FAST, "--no-report"]
    whole = run_cli(*common, out=tmp_path / "whole")
    assert whole.rc == 1, whole.stdout + whole.stderr
    assert [r["ref"] for r in whole.doc["history"]["releases"]] == [
        git(repo, "rev-parse", f"{c}^{{commit}}")[:12]
        for c in ("v1.1.0", "main~3", "main~1", "main")]
    assert whole.doc["history"]["order"] == "ancestry"
    for k in (1, 2):
        r = run_cli(*common, "--shard", f"{k}/2", out=tmp_path / f"shard{k}")
        assert r.rc in (0, 1), r.stdout + r.stderr
        assert len(r.doc["history"]["releases"]) == 2
    merged = run_cli("merge", tmp_path / "shard2", tmp_path / "shard1", "--out",
                     tmp_path / "merged")
    assert merged.rc == 1, merged.stdout + merged.stderr
    assert _same(merged.doc) == _same(whole.doc)
    table = (tmp_path / "merged" / "history.md").read_text()
    assert all(f"| {r['ref']} |" in table for r in whole.doc["history"]["releases"])


def test_a_shard_whose_releases_do_not_build_records_them_for_merge(tagged, tmp_path):
    # One CI job per release: the job of the release that does not compile has nothing to run,
    # and its release must still reach the merged table, marked, not be dropped.
    repo, _ = tagged
    common = ["history", "--repo", repo, "-a", "faulty:static", "--tags", "v1.1.1",
              "--tags", "v1.1.2", *FAST, "--no-report"]
    shards = {k: run_cli(*common, "--shard", f"{k}/2", out=tmp_path / f"shard{k}")
              for k in (1, 2)}
    broken = shards[2]
    assert broken.rc == 0, broken.stdout + broken.stderr
    assert [(r["ref"], r["built"]) for r in broken.doc["history"]["releases"]] == [
        ("v1.1.2", False)]
    assert broken.doc["cells"] == [] and broken.doc["plan"]["shard"] == [2, 2]
    merged = run_cli("merge", tmp_path / "shard1", tmp_path / "shard2", "--out",
                     tmp_path / "merged")
    assert merged.rc == 1, merged.stdout + merged.stderr  # v1.1.1 leaks
    assert "incomplete" not in merged.stdout
    rel = {r["ref"]: r for r in merged.doc["history"]["releases"]}
    assert rel["v1.1.1"]["built"] and not rel["v1.1.2"]["built"]
    assert "error" in rel["v1.1.2"]["error"]
    # The whole history of that release alone: nothing to run is a failure, still recorded.
    alone = run_cli("history", "--repo", repo, "-a", "faulty:static", "--tags", "v1.1.2",
                    *FAST, "--no-report", out=tmp_path / "alone")
    assert alone.rc == 3 and "no release of this history builds" in alone.stderr
    assert not alone.doc["history"]["releases"][0]["built"]


def _hanging():
    """Whether a fault_hang_dtor program runs (not a linker writing it)."""
    return any((p.info["cmdline"] or [""])[0].endswith("/fault_hang_dtor")
               for p in psutil.process_iter(["cmdline"]))


def test_an_interrupt_keeps_the_releases_measured(tagged, tmp_path):
    """The last scenario hangs until it is killed: the interrupt lands while it runs, after
    every release's last_round_alloc cell (one cell at a time, in plan order)."""
    repo, _ = tagged
    out = tmp_path / "out"
    argv = [str(ROOT / "tlsleak"), "history", "--repo", str(repo), "-a", "faulty:static",
            "--tags", "v1.*", *FAST, "-s", "fault_hang_dtor", "-j", "1", "--out", str(out)]
    env = {**os.environ, "TLSLEAK_SKIP_SETUP": "1"}
    with started(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                 text=True) as proc:
        wait_until(_hanging, "the hanging cell starting", limit=600)
        harness_of(psutil.Process(proc.pid)).send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stderr
    doc = json.loads((out / "results.json").read_text())
    assert doc["interrupted"] is True
    kept = [c for c in doc["cells"] if c["scenario"] == SCENARIO]
    assert [c["verdict"] for c in kept] == ["ok", "ok", "leak", "ok"]
    assert [r["ref"] for r in doc["history"]["releases"]] == [
        "v1.0.0", "v1.1.0", "v1.1.1", "v1.1.2", "v1.2.0"]
