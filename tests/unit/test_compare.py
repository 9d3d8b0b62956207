"""How `tlsleak compare` (commands/compare.py) labels a scenario from the runs of each side: a
verdict that flips is regressed or fixed, a rate that moves is rate changed; a side that gives
no verdict (a run inconclusive, error, crash or timeout, none finished a thread, runs split
evenly, no cell at all) makes the row not comparable, never fixed or regressed; and inputs
that are not results files are one line, exit 2."""
import copy
import json

import pytest

from resultsdocs import cell, make_doc, rate
from tlsleak import cli
from tlsleak.commands import compare

pytestmark = pytest.mark.unit


def cells(verdict, *rates, finished=2000):
    return [{"verdict": verdict, "rate": {"value": r, "unit": "B/thread"},
             "threads": {"finished": finished}} for r in rates]


def test_a_verdict_that_flips_is_regressed_one_way_and_fixed_the_other():
    assert compare.label(cells("ok", 0, 0, 0), cells("leak", 900, 950, 1000), 128)[0] == "regressed"
    assert compare.label(cells("leak", 900, 950, 1000), cells("ok", 0, 0, 0), 128)[0] == "fixed"


def test_a_rate_that_moves_beyond_the_floor_is_rate_changed_by_mann_whitney():
    what, p, _ = compare.label(cells("leak", 1000, 1010, 990, 1005),
                               cells("leak", 4000, 4100, 3900, 4050), 128)
    assert what == "rate changed" and p < 0.05


def test_overlapping_rates_or_a_change_under_the_floor_are_unchanged():
    assert compare.label(cells("leak", 1000, 1200, 900, 1100),
                         cells("leak", 1050, 950, 1150, 1000), 128)[0] == "unchanged"
    # significant, but 20 B/thread is below the 128 B/thread floor
    assert compare.label(cells("leak", 1000, 1001, 1002, 1003),
                         cells("leak", 1020, 1021, 1022, 1023), 128)[0] == "unchanged"


@pytest.mark.parametrize("b, why", [
    (cells("inconclusive", 0, finished=0), "B: 1 of 1 runs inconclusive"),
    (cells("error", 0), "B: 1 of 1 runs error"),
    (cells("crash", 0) + cells("ok", 0), "B: 1 of 2 runs crash"),
    (cells("timeout", 0), "B: 1 of 1 runs timeout"),
    (cells("ok", 0, finished=0), "B: 1 of 1 runs finished no thread"),
    (cells("ok", 0, 0) + cells("leak", 900, 900), "B: runs split: 2 leak, 2 ok"),
    ([], "B: no cell"),
])
def test_a_side_that_was_not_judged_is_not_comparable_never_fixed(b, why):
    """Side A leaks 57344 B/thread; side B gave no verdict: the row must not read `fixed`."""
    what, p, reason = compare.label(cells("leak", 57344), b, 128)
    assert (what, p, reason) == ("not comparable", None, why)
    assert compare.label(b, cells("leak", 57344), 128)[2] == why.replace("B:", "A:")


def test_rates_in_different_units_are_not_comparable():
    b = cells("leak", 900)
    b[0]["rate"]["unit"] = "B/s"
    assert compare.label(cells("leak", 900), b, 128)[:2] == ("not comparable", None)


def side_file(tmp_path, name, verdict, r=None, finished=20000):
    c = cell("last_round_alloc", "mimalloc:dynamic", "scenario", verdict, r=r,
             finished=finished)
    doc = make_doc([copy.deepcopy(c)])
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def test_two_results_files_with_an_unjudged_side_exit_4_with_the_reason(tmp_path, capsys):
    a = side_file(tmp_path, "a.json", "leak", rate(57344, 0))
    b = side_file(tmp_path, "b.json", "inconclusive", rate(0, 900), finished=0)
    assert cli.main(["compare", str(a), str(b)]) == 4
    row = next(ln for ln in capsys.readouterr().out.splitlines()
               if ln.startswith("last_round_alloc"))
    assert row.endswith("not comparable: B: 1 of 1 runs inconclusive") and "fixed" not in row


def test_two_results_files_that_flip_regress_with_exit_1(tmp_path, capsys):
    a = side_file(tmp_path, "a.json", "ok", rate(0, 1))
    b = side_file(tmp_path, "b.json", "leak", rate(57344, 0))
    assert cli.main(["compare", str(a), str(b)]) == 1
    assert "regressed" in capsys.readouterr().out


@pytest.mark.parametrize("content, words", [
    ("", "is empty"), ("not json", "not valid JSON"), ("[]", "the JSON is a list"),
    ("null", "the JSON is None"), ('{"schema": "other/1"}', "its schema is 'other/1'"),
    ('{"format": "tlsleak-baseline/2", "cells": {}}', "an object without a schema key")])
def test_an_input_that_is_not_a_results_file_is_one_line_exit_2(tmp_path, capsys, content,
                                                                 words):
    a = side_file(tmp_path, "a.json", "leak", rate(57344, 0))
    b = tmp_path / "b.json"
    b.write_text(content)
    assert cli.main(["compare", str(a), str(b)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0] and str(b) in err[0]


def test_a_missing_results_file_is_not_taken_for_a_configuration(tmp_path, capsys):
    a = side_file(tmp_path, "a.json", "leak", rate(57344, 0))
    assert cli.main(["compare", str(a), str(tmp_path / "nowhere.json")]) == 2
    assert "No such file" in capsys.readouterr().err


def test_a_results_file_of_several_configurations_is_refused(tmp_path, capsys):
    path = tmp_path / "whole.json"
    path.write_text(json.dumps(make_doc()))
    assert cli.main(["compare", str(path), str(path)]) == 2
    assert "compare takes one per side" in capsys.readouterr().err
