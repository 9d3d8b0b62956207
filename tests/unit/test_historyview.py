"""historyview.py: the points, flips, bisect commands, table and chart data of a release history
read from its results (README "Release history"): a release that does not build is a point and
a row of its own, never dropped; a flip is between consecutive judged releases, passing over
the ones that were not judged, as `git bisect skip` does."""
import shlex

import pytest

from tlsleak import historyview, releases

pytestmark = pytest.mark.unit


def _doc(points, settings=None):
    """A history's results: points = [(ref, verdict or None when it does not build, rate)]."""
    rels, cells = [], []
    for i, (ref, verdict, rate) in enumerate(points):
        r = releases.Release(ref=ref, commit=f"{i:040x}", index=i, built=verdict is not None)
        if verdict is None:
            r.error = "faulty.c:1:1: error: nope"
        else:
            r.ids = [f"faulty@{ref}:static"]
            cells.append({"scenario": "s", "allocator": {"id": r.ids[0]}, "verdict": verdict,
                          "reason": "", "rate": {"value": rate}, "role": "scenario",
                          "config": r.ids[0]})
        rels.append(r)
    hist = releases.block("faulty", "/repo dir", ["static"], ["s"], "version", "--tags v*", rels)
    return {"history": hist, "cells": cells, "settings": settings or {}}


LINE = [("v1", "ok", 0.0), ("v2", "leak", 900.0), ("v3", None, None), ("v4", "inconclusive", 5.0),
        ("v5", "ok", 1.0)]


def test_every_release_is_a_point_the_broken_one_included():
    pts = historyview.lines(_doc(LINE))[("s", "static")]
    assert [p.verdict for p in pts] == ["ok", "leak", historyview.NOT_BUILT, "inconclusive", "ok"]
    assert pts[2].reason == "faulty.c:1:1: error: nope"


def test_flips_pass_over_releases_not_judged_and_name_the_bisect_to_run():
    fl = historyview.flips(_doc(LINE, {"threads": 200, "size": 1024}))
    assert [(f.before.release.ref, f.after.release.ref, f.find_fix) for f in fl] == [
        ("v1", "v2", False), ("v2", "v5", True)]
    argv = shlex.split(fl[1].command)
    assert argv[:4] == ["tlsleak", "bisect", "--repo", "/repo dir"]
    assert argv[argv.index("--good") + 1] == "v2" and argv[argv.index("--bad") + 1] == "v5"
    assert "--find-fix" in argv and argv[argv.index("-a") + 1] == "faulty:static"
    # the workload the history used, where it is not the default, so the bisect sees the same
    assert argv[argv.index("--threads") + 1] == "200" and "--size" not in argv
    assert "--find-fix" not in shlex.split(fl[0].command)


def test_no_flip_when_the_judged_releases_agree():
    assert historyview.flips(_doc([("v1", "ok", 0.0), ("v2", None, None), ("v3", "ok", 0.0)])) == []


def test_chart_data_has_a_value_for_judged_releases_only_and_marks_flips_and_broken():
    c = historyview.chart(_doc(LINE))
    assert c.refs == ["v1", "v2", "v3", "v4", "v5"]
    assert c.series == {"s (static)": [0.0, 900.0, None, None, 1.0]}
    assert c.flips == {"s (static)": [1, 4]} and c.not_built == [2] and c.order == "version"


def test_the_table_keeps_the_broken_release_with_its_first_error_line():
    doc = _doc(LINE)
    text = historyview.text(doc)
    assert "v3" in text and "does not build: faulty.c:1:1: error: nope" in text
    assert "in version order" in text
    md = historyview.markdown(doc)
    assert md.startswith("## tlsleak: ") and "| v3 |" in md and "--find-fix" in md
    page = historyview.page(doc)
    assert page.count("<tr>") == 6 and "does not build" in page


def test_a_release_whose_controls_failed_says_its_verdicts_are_not_proven():
    doc = _doc(LINE[:2])
    doc["cells"].append({"scenario": "control_flat", "allocator": {"id": "faulty@v1:static"},
                         "verdict": "ok", "reason": "", "rate": {"value": 0.0},
                         "role": "control-flat", "config": "faulty@v1:static"})
    doc["controls"] = {"invalid_configs": [{"config": "faulty@v2:static",
                                            "why": "control_flat grew"}]}
    v1, v2 = releases.of_block(doc["history"])
    assert historyview.controls_text(doc, v1) == "ok"
    assert historyview.controls_text(doc, v2) == "not proven: control_flat grew"
    assert "not proven: control_flat grew" in historyview.text(doc)
