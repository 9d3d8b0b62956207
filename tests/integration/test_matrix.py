"""The default matrix, end to end: controls prove the detector in every configuration."""
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from clihelp import ROOT, cell

pytestmark = pytest.mark.integration

# Every configuration the build registers (conftest.py derives them from `tlsleak list --json`).
# tbbmalloc really spends about 1390 B on a 1 KiB block (slab overhead of its size class), so
# its positive control is checked against its own band. scudo serves a 1 KiB block (plus its
# 16-byte chunk header) from its 1280-byte size class: 1280 B/thread measured.
BANDS = {"tbbmalloc": (1024, 2048), "scudo": (1024, 1536)}


def test_control_leak_is_a_leak_of_its_block_size(matrix, configuration):
    c = cell(matrix.doc, "control_leak", configuration["label"])
    assert c["verdict"] == "leak", c["reason"]
    low, high = BANDS.get(configuration["name"], (1024 - 256, 1024 + 256))
    assert low <= c["rate"]["value"] <= high, c["rate"]


def test_control_flat_is_ok(matrix, configuration):
    c = cell(matrix.doc, "control_flat", configuration["label"])
    assert c["verdict"] == "ok", c["reason"]


def test_cells_are_served_by_their_allocator(matrix, configuration):
    c = cell(matrix.doc, "control_flat", configuration["label"])
    assert c["observed_allocator"]["name"] == configuration["expect"]
    assert c["observed_allocator"]["owns"] is True


def test_threads_really_end(matrix):
    """Every joined thread is gone: the OS thread count returns to its baseline."""
    for c in matrix.doc["cells"]:
        th = c["threads"]
        # Sequential judging may stop a cell once settled; otherwise every thread ran.
        assert th["finished"] == th["requested"] or c.get("stopped_early"), c["id"]
        assert th["finished"] >= 8 * matrix.doc["settings"]["interval"], c["id"]
        concurrency = matrix.doc["settings"]["concurrency"]
        # Churned threads are gone at each checkpoint; a pool's workers live until its end.
        alive = concurrency if c["scenario"] == "thread_pool" else 0
        assert th["os_baseline"] <= th["os_final"] <= th["os_baseline"] + alive, c["id"]
        # null when the sampler took no sample: a cell over before the sampler's first one (a
        # quick cell on a loaded machine; the schema allows it)
        if th["os_max_sampled"] is not None:
            assert th["os_max_sampled"] <= th["os_baseline"] + concurrency + 1, c["id"]
    assert any(c["threads"]["os_max_sampled"] is not None for c in matrix.doc["cells"])


def test_matrix_covers_every_scenario_and_configuration(matrix, listing):
    doc = matrix.doc
    scenarios = {s["name"] for s in listing["scenarios"] if s["role"] != "fault"}
    available = {c["label"] for c in listing["configs"] if c["available"]}
    cells = {(c["scenario"], c["config"]) for c in doc["cells"]}
    assert cells == {(s, a) for s in scenarios for a in available}
    assert len(scenarios) >= 5 and len(available) >= 6
    assert doc["controls"]["passed"], doc["controls"]["failures"]


def test_results_validate_against_the_shipped_schema(matrix):
    schema = json.loads((ROOT / "harness/tlsleak/schema/results-2.schema.json").read_text())
    jsonschema.validate(matrix.doc, schema)
    broken = dict(matrix.doc, cells=[dict(matrix.doc["cells"][0], verdict="maybe")])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_exit_code_matches_the_findings(matrix):
    doc = matrix.doc
    findings = [c for c in doc["cells"] if not c["role"].startswith("control-")
                and c["verdict"] in ("leak", "crash", "timeout")]
    assert matrix.rc == doc["exit_code"] == (1 if findings else 0)


def test_every_cell_records_its_provenance(matrix):
    doc = matrix.doc
    assert doc["harness"]["commit"] and doc["harness"]["version"]
    assert doc["host"]["libc"].startswith("glibc")
    assert doc["build"]["c_compiler"] and doc["build"]["c_flags"] is not None
    assert doc["command"][:2] == ["tlsleak", "run"]
    for c in doc["cells"]:
        assert c["allocator"]["version"] and c["allocator"]["mode"], c["id"]
        assert Path(c["command"][0]).is_file(), c["id"]
        if c["allocator"]["mode"] == "override":
            assert c["env"]["LD_PRELOAD"] == c["allocator"]["library"], c["id"]


def test_junit_has_one_testcase_per_cell(matrix):
    suite = ET.parse(matrix.out / "junit.xml").getroot()
    cases = suite.iter("testcase")
    names = {tc.get("name"): tc for tc in cases}
    assert set(names) == {c["id"] for c in matrix.doc["cells"]}
    for c in matrix.doc["cells"]:
        failed = names[c["id"]].find("failure") is not None
        # A control fails when it misses what it must show; any other cell when it leaks.
        want = {"control-leak": "leak", "control-flat": "ok"}.get(c["role"])
        assert failed == (c["verdict"] != want if want else c["verdict"] == "leak"), c["id"]


def test_table_names_every_cell(matrix):
    for c in matrix.doc["cells"]:
        assert c["scenario"] in matrix.stdout and c["config"] in matrix.stdout


def test_every_scenario_emits_checkpoints_under_system(matrix, listing):
    """A scenario that stops producing checkpoints (or a new one that never did) fails here."""
    for s in listing["scenarios"]:
        if s["role"] == "fault":
            continue
        c = cell(matrix.doc, s["name"], "system")
        cps = c["checkpoints"]
        assert len(cps) >= 9, (s["name"], len(cps))
        assert cps[0]["done"] == 0 and all("rss" in cp for cp in cps), s["name"]
        assert [cp["done"] for cp in cps] == sorted(cp["done"] for cp in cps), s["name"]
