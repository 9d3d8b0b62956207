"""Baseline comparison matches like with like: the same cell id and the same allocator version."""
import json

import pytest

from tlsleak import baseline

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
    doc = {"schema": "tlsleak-results/2", "cells": [
        {"id": "last_round_alloc-tcmalloc@2.10-override", "scenario": "last_round_alloc",
         "role": "scenario", "verdict": "leak", "rate": None,
         "allocator": {"id": "tcmalloc@2.10:override", "name": "tcmalloc", "mode": "override",
                       "version": "2.10", "commit": None}}]}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(doc))
    base = baseline.load(path)
    cell = _cell("last_round_alloc-tcmalloc@2.10-override", "leak")
    assert baseline.compare([cell], base)["known"] == [cell["id"]]
