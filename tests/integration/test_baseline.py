"""Baselines: known leaks pass, new leaks fail, stopped leaks are reported fixed."""
import json

import pytest

from clihelp import ROOT, run_cli

pytestmark = pytest.mark.integration

COMMITTED = ROOT / "results" / "baseline" / "linux-x86_64-glibc.json"
CELLS = ["-s", "last_round_alloc", "-s", "pthread_key_dtor_free", "-a", "system",
         "-a", "tcmalloc:override", "--no-controls"]


@pytest.fixture
def base(tmp_path):
    doc = json.loads(COMMITTED.read_text())
    if "last_round_alloc-tcmalloc@2.10-override" not in doc["cells"]:
        pytest.skip("the committed baseline has no tcmalloc:override cells")
    return doc


def _write(tmp_path, doc):
    path = tmp_path / "base.json"
    path.write_text(json.dumps(doc))
    return path


def test_every_known_leak_in_the_committed_baseline_is_explained(base):
    for cid, cell in base["cells"].items():
        if cell["verdict"] == "leak" and not cid.startswith("control_"):
            assert cell["explanation"] and not cell["explanation"].startswith("TODO"), cid


def test_a_known_leak_passes(tmp_path, base):
    r = run_cli("run", "--out", tmp_path / "out", "--baseline", _write(tmp_path, base), *CELLS)
    assert r.rc == 0, r.stdout
    assert "known leaks (explained in the baseline): last_round_alloc-tcmalloc@2.10-override" \
        in r.stdout
    assert r.doc["baseline"]["new"] == []


def test_a_leak_the_baseline_does_not_know_fails(tmp_path, base):
    base["cells"]["last_round_alloc-tcmalloc@2.10-override"]["verdict"] = "ok"
    r = run_cli("run", "--out", tmp_path / "out", "--baseline", _write(tmp_path, base), *CELLS)
    assert r.rc == 1
    assert r.doc["baseline"]["new"] == ["last_round_alloc-tcmalloc@2.10-override"]
    assert "NEW (not in the baseline): last_round_alloc-tcmalloc@2.10-override" in r.stdout


def test_a_leak_that_stopped_is_reported_fixed(tmp_path, base):
    base["cells"]["pthread_key_dtor_free-system"]["verdict"] = "leak"
    r = run_cli("run", "--out", tmp_path / "out", "--baseline", _write(tmp_path, base), *CELLS)
    assert r.rc == 0
    assert r.doc["baseline"]["fixed"] == ["pthread_key_dtor_free-system"]


def test_writing_a_baseline_keeps_the_explanations(tmp_path, base):
    path = _write(tmp_path, base)
    r = run_cli("run", "--out", tmp_path / "out", "--write-baseline", path, *CELLS)
    assert r.rc == 1  # without --baseline, a leak is a finding
    new = json.loads(path.read_text())
    key = "last_round_alloc-tcmalloc@2.10-override"
    assert new["cells"][key]["explanation"] == base["cells"][key]["explanation"]
    assert set(new["cells"]) == {c["id"] for c in r.doc["cells"]}
