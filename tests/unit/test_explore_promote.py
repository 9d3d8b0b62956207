"""A finding promoted into the catalog (harness/tlsleak/explore/promote.py) is a scenario file
whose header the catalog reads (docs/DESIGN.md "Scenario headers") and whose code has the finding's
shape; a shape the scenario library cannot express is refused in one line."""
import json
import sys
from pathlib import Path

import pytest

from tlsleak import UsageError
from tlsleak.catalog import parse_source
from tlsleak.explore import promote, space

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "explore"
sys.path.insert(0, str(GOLDEN))
import golden  # noqa: E402

pytestmark = pytest.mark.unit


def _run_dir(tmp_path, point):
    out = tmp_path / "run"
    out.mkdir()
    finding = {"name": "F1-new", "key": space.key(point),
               "leaks": [{"label": "jemalloc:static", "rate": 17000.0}]}
    (out / "findings.json").write_text(json.dumps({"findings": [finding]}))
    return out


def test_a_last_round_first_allocation_becomes_a_scenario(tmp_path):
    point = space.complete({"round": space.ROUNDS, "action": "malloc_free", "prealloc": 0})
    scen = tmp_path / "repro" / "scenarios"
    scen.mkdir(parents=True)
    path = promote.promote(_run_dir(tmp_path, point), "F1-new", scen)
    [s] = parse_source(path, tmp_path)
    assert s.name == "explore_round4_malloc_free_prealloc0" and s.tls == "pthread"
    assert s.role == "scenario" and s.refs == [] and "tlsleak explore" in s.summary
    text = path.read_text()
    assert "if (tl_key_rearm(t))" in text  # acts in the last round only
    body = text[text.index("static void body"):]
    assert "tl_block_use" not in body.split("}")[0]  # the destructor's malloc is the first
    assert "jemalloc:static 17000" in text  # the measured rate, in the free text


def test_a_shape_without_a_library_primitive_is_refused(tmp_path):
    point = space.complete({"action": "handoff"})
    with pytest.raises(UsageError, match="action=handoff"):
        promote.promote(_run_dir(tmp_path, point), "F1-new", tmp_path)


def test_an_unknown_finding_is_refused(tmp_path):
    with pytest.raises(UsageError, match="no finding 'F9'"):
        promote.promote(_run_dir(tmp_path, space.simplest()), "F9", tmp_path)


def test_the_template_writes_every_promotable_point_byte_for_byte_as_the_python_code_did():
    """templates/explore_scenario.c replaced the Python code that built the scenario file; the
    hashes in tests/data/explore/golden.json are what that code wrote for every point promote
    takes, with no note and with one long enough to wrap."""
    want = json.loads((GOLDEN / "golden.json").read_text())["promote"]
    got = golden.promote_sources()
    assert [k for k in want if got.get(k) != want[k]] == []
    assert len(got) == len(want) == 192
