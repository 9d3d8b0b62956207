"""Baselines (baseline.py): comparison matches like with like, the same cell id and the same
allocator version; a baseline, or a results file taken as one, is checked when it is read."""
import json

import pytest

import resultsdocs
from tlsleak import UsageError, baseline
from tlsleak.build import ROOT

pytestmark = pytest.mark.unit


def _cell(cid, verdict, version="2.10", role="scenario"):
    return {"id": cid, "role": role, "verdict": verdict,
            "allocator": {"id": "tcmalloc@%s:override" % version, "version": version}}


def _base(verdict, version="2.10"):
    return {"format": baseline.FORMAT, "cells": {"last_round_alloc-tcmalloc@2.10-override": {
        "verdict": verdict, "version": version, "explanation": "known"}}}


def test_a_known_leak_is_known_and_keeps_its_explanation():
    cell = _cell("last_round_alloc-tcmalloc@2.10-override", "leak")
    changes = baseline.compare([cell], _base("leak"))
    assert changes["known"] == [cell["id"]] and not changes["new"]
    assert cell["baseline"]["explanation"] == "known"


def test_an_entry_measured_under_another_version_does_not_excuse_a_leak():
    cell = _cell("last_round_alloc-tcmalloc@2.10-override", "leak")
    changes = baseline.compare([cell], _base("leak", version="2.9"))
    assert changes["new"] == [cell["id"]]


def test_a_leak_that_stopped_is_fixed_and_controls_are_not_compared():
    cell = _cell("last_round_alloc-tcmalloc@2.10-override", "ok")
    ctl = _cell("control_leak-tcmalloc@2.10-override", "leak", role="control-leak")
    changes = baseline.compare([cell, ctl], _base("leak"))
    assert changes["fixed"] == [cell["id"]] and "baseline" not in ctl


def test_a_version_the_baseline_never_measured_is_not_a_new_leak():
    # Same scenario, allocator and mode, another version: the baseline cannot speak for it.
    base = _base("ok")
    base["cells"]["last_round_alloc-tcmalloc@2.10-override"].update(
        scenario="last_round_alloc", config="tcmalloc@2.10:override")
    cell = {"id": "last_round_alloc-tcmalloc@2.11-override", "scenario": "last_round_alloc",
            "role": "scenario", "verdict": "leak",
            "allocator": {"id": "tcmalloc@2.11:override", "name": "tcmalloc",
                          "mode": "override", "version": "2.11"}}
    changes = baseline.compare([cell], base)
    assert changes["no_baseline_for_version"] == [cell["id"]] and not changes["new"]
    assert cell["baseline"]["status"] == "no_baseline_for_version"


def test_a_results_json_serves_as_a_baseline(tmp_path):
    c = resultsdocs.cell("last_round_alloc", "tcmalloc:override", "scenario", "leak")
    c.update(id="last_round_alloc-tcmalloc@2.10-override")
    c["allocator"].update(id="tcmalloc@2.10:override", version="2.10")
    path = tmp_path / "results.json"
    path.write_text(json.dumps(resultsdocs.make_doc([c])))
    base = baseline.load(path)
    cell = _cell("last_round_alloc-tcmalloc@2.10-override", "leak")
    assert baseline.compare([cell], base)["known"] == [cell["id"]]


@pytest.mark.parametrize("content, words", [
    ("", "not valid JSON"), ("[]", "is not a tlsleak-baseline/2 file"),
    ('{"schema": "tlsleak-results/2", "cells": [7]}', "not a valid tlsleak-results/2 file"),
    ('{"format": "tlsleak-baseline/2", "cells": {"a-system": 7}}', "is not an object"),
    ('{"format": "tlsleak-baseline/2", "cells": {"a-system": {"verdict": "leaky"}}}',
     "is not an object with a verdict"),
    ('{"format": "tlsleak-baseline/2", "cells": {"a-system": {"verdict": "ok", "config": 3}}}',
     "has a config that is not a string"),
    ('{"format": "tlsleak-baseline/2", "cells": {"a-system": {"verdict": "ok", '
     '"rate": "1 B/thread"}}}', "has a rate that is not"),
])
def test_a_baseline_with_wrong_types_is_one_line_of_bad_input(tmp_path, content, words):
    """Read before anything runs: a wrong type would otherwise end the run after every cell
    had run, as an internal error."""
    path = tmp_path / "b.json"
    path.write_text(content)
    with pytest.raises(UsageError) as e:
        baseline.load(path)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_the_committed_baseline_loads():
    assert baseline.load(ROOT / "results" / "baseline" / "linux-x86_64-glibc.json")["cells"]
