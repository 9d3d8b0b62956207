"""Versions from source through the CLI, on a throwaway history of the `faulty` allocator
(faultyrepo.py: start v1.0.0, readme, v1.1.0, leak, notes, broken, buildfix, fix v1.2.0):
compare labels the two ends; a run with an extra version leaves every other cell and the next
run as they were. (bisect on the same history: test_bisect_cli.py.)"""
import json

import pytest

from clihelp import ROOT, run_cli

pytestmark = pytest.mark.integration

SCENARIO = "last_round_alloc"
FAST = ["--threads", "200"]
BASELINE = ROOT / "results" / "baseline" / "linux-x86_64-glibc.json"


def test_compare_labels_the_leaking_side_regressed_and_the_other_way_fixed(faulty_repo):
    repo, commits = faulty_repo
    clean, leaking = "faulty@v1.1.0:static", f"faulty@{commits['leak'][:10]}:static"
    r = run_cli("compare", clean, leaking, "--repo", f"faulty={repo}", "--repeat", "1",
                "-s", SCENARIO, *FAST)
    assert r.rc == 1, r.stderr
    row = next(line for line in r.stdout.splitlines() if line.startswith(SCENARIO))
    assert row.split()[1:] and row.endswith("regressed")
    r = run_cli("compare", leaking, clean, "--repo", f"faulty={repo}", "--repeat", "1",
                "-s", SCENARIO, *FAST)
    assert r.rc == 0, r.stderr
    assert next(line for line in r.stdout.splitlines()
                if line.startswith(SCENARIO)).endswith("fixed")


def test_an_extra_version_changes_no_other_cell_and_nothing_after_its_run(faulty_repo,
                                                                         tmp_path):
    repo, commits = faulty_repo
    common = ["-s", SCENARIO, "-a", "faulty:static", "--no-controls", "--no-report",
              "--baseline", BASELINE, *FAST]
    alone = run_cli("run", *common, out=tmp_path / "alone")
    extra = run_cli("run", *common, "--repo", f"faulty={repo}", "-a",
                    f"faulty@{commits['leak']}:static", out=tmp_path / "extra")
    after = run_cli("run", *common, out=tmp_path / "after")
    for r in (alone, extra, after):
        assert r.rc == 0, r.stderr  # the extra version leaks, but the baseline never measured it
    ids = {name: {c["id"]: c["verdict"] for c in r.doc["cells"]}
           for name, r in [("alone", alone), ("extra", extra), ("after", after)]}
    assert ids["alone"] == ids["after"] == {f"{SCENARIO}-faulty@1.0.0-static": "ok"}
    new_id = f"{SCENARIO}-faulty@1.1.0+g{commits['leak'][:7]}-static"
    assert ids["extra"] == {**ids["alone"], new_id: "leak"}
    assert "no baseline for this version: " + new_id in extra.stdout
    extra_cell = next(c for c in extra.doc["cells"] if c["id"] == new_id)
    assert extra_cell["allocator"]["commit"] == commits["leak"]
    assert extra_cell["baseline"]["status"] == "no_baseline_for_version"
    # Nothing sticks: the build tree lists no build of faulty after the run without one (only
    # Debian's source trees, listed in every run).
    built = json.loads((ROOT / "build" / "tlsleak-built.json").read_text())
    assert [a["source"].split(":")[0] for a in built["allocators"]] == \
        ["debian"] * len(built["allocators"])
