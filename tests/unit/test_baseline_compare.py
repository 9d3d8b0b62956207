"""Baseline comparison matches like with like: the same cell id and the same allocator version."""
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
