"""Results files read back and written (results/store.py): whatever is not a results document
of this format, or breaks its schema, is refused in one line (UsageError, exit 2) by the one
load() every command uses; dump() writes atomically, never NaN."""
import json
import math
import os

import pytest

from resultsdocs import RECORDED, make_doc, recorded
from tlsleak import UsageError, atomic, results
from tlsleak.build import ROOT

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("content, words", [
    (None, "No such file"),
    ("", "is empty"),
    ("  \n", "is empty"),
    ("{", "not valid JSON"),
    ("[]", "not a tlsleak-results/2 file (the JSON is a list)"),
    ("null", "not a tlsleak-results/2 file (the JSON is None)"),
    ("42", "not a tlsleak-results/2 file"),
    ('{"format": "tlsleak-baseline/2", "cells": {}}', "an object without a schema key"),
    ('{"schema": "x"}', "its schema is 'x'"),
    ('{"schema": "tlsleak-results/2"}', "is not a valid tlsleak-results/2 file"),
    (b"\xff\xfe{}", "not UTF-8"),
    ("[" * 100000, "not valid JSON"),
])
def test_what_is_not_a_results_file_is_refused_in_one_line(tmp_path, content, words):
    path = tmp_path / "results.json"
    if content is not None:
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(UsageError) as e:
        results.load(path)
    assert words in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("mutate, where", [
    (lambda d: d["cells"].__setitem__(0, 7), "cells[0]"),
    (lambda d: d["cells"][2].update(rate="2048 B/thread"), "cells[2].rate"),
    (lambda d: d["cells"][2]["rate"].update(value="2048"), "cells[2].rate.value"),
    (lambda d: d["cells"][3].update(verdict=None), "cells[3].verdict"),
    (lambda d: d.update(controls=[]), "controls"),
])
def test_wrong_types_are_bad_input_naming_where(tmp_path, mutate, where):
    doc = make_doc()
    mutate(doc)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(UsageError) as e:
        results.load(path)
    assert ("valid tlsleak-results/2 file: %s:" % where) in str(e.value)


def test_a_number_json_does_not_have_is_refused(tmp_path):
    """Python's json reads NaN and Infinity; JSON has neither, and the harness never writes
    them."""
    path = tmp_path / "results.json"
    path.write_text(json.dumps(make_doc()).replace('"duration_s": 120.0', '"duration_s": NaN'))
    with pytest.raises(UsageError, match="NaN is not a JSON number"):
        results.load(path)


def test_the_same_cell_id_twice_is_refused(tmp_path):
    doc = make_doc()
    doc["cells"].append(doc["cells"][0])
    path = tmp_path / "results.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(UsageError, match=r"cells\[7\]: id .* is there twice"):
        results.load(path)


def test_the_recorded_run_loads_from_its_file_or_its_folder():
    assert results.load(RECORDED) == recorded()
    assert results.load(RECORDED.parent) == recorded()


def test_dump_then_load_is_the_document(tmp_path):
    path = tmp_path / "out" / "results.json"
    results.dump(path, make_doc())
    assert results.load(path) == make_doc()


def test_dump_is_atomic_and_keeps_key_order(tmp_path):
    path = tmp_path / "out" / "results.json"
    doc = make_doc()
    results.dump(path, doc)
    text = path.read_text()
    assert json.loads(text) == json.loads(json.dumps(doc))
    assert text.index('"schema"') < text.index('"harness"') < text.index('"cells"')
    assert '\n  "harness": {' in text  # indent 2
    assert os.listdir(path.parent) == ["results.json"]  # no temporary file left
    assert (path.stat().st_mode & 0o777) == 0o644


def test_dump_replaces_and_never_writes_nan(tmp_path):
    path = tmp_path / "results.json"
    path.write_text("old")
    doc = make_doc()
    doc["duration_s"] = float("nan")
    doc["cells"][0]["rate"]["ci"] = [-math.inf, math.inf]
    results.dump(path, doc)
    back = json.loads(path.read_text())
    assert back["duration_s"] is None and back["cells"][0]["rate"]["ci"] == [None, None]


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    path.write_text("old")

    def broken_replace(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    with pytest.raises(OSError):
        results.dump(path, make_doc())
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["results.json"]


def test_a_message_about_a_hostile_key_cannot_act_on_the_terminal(tmp_path):
    doc = make_doc()
    doc["cells"][0]["signals"]["\x1b[2Jrss"] = {"verdict": 3}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(UsageError) as e:
        results.load(path)
    assert "\x1b" not in str(e.value) and "signals.'\\x1b[2Jrss'" in str(e.value)



# The atlas (results/atlas/README.md): the results files committed there are read back by the
# same load() every command uses, and each cell says where it came from, with no field left
# empty: the allocator (name, version, mode; the commit of a release built from a clone), the
# compiler, the OS, the libc, the harness's version, and the exact command of the run.
ATLAS = sorted((ROOT / "results" / "atlas").glob("*/results.json"))


def provenance_gaps(doc) -> list[str]:
    """The provenance fields of `doc` that are missing or empty, named by where they are."""
    gaps = [] if doc.get("command") else ["command"]
    built = {cid: rel["commit"] for rel in (doc.get("history") or {}).get("releases", [])
             for cid in rel["ids"] or ()}
    for cell in doc["cells"]:
        alloc, prov = cell["allocator"], cell["provenance"]
        want = {"allocator.name": alloc.get("name"), "allocator.version": alloc.get("version"),
                "allocator.mode": alloc.get("mode"), "compiler.c": prov["compiler"].get("c"),
                "compiler.c_flags": prov["compiler"].get("c_flags"), "os": prov.get("os"),
                "libc": prov.get("libc"), "harness.version": prov["harness"].get("version")}
        if alloc["id"] in built:  # a release the history built from its clone: its commit
            want["allocator.commit"] = alloc.get("commit") == built[alloc["id"]]
        gaps += [f"{cell['id']}: {name}" for name, value in want.items() if not value]
    return gaps


def _atlas_doc(history):
    """A copy of the first atlas file with (or without) a history block, and a cell of it."""
    for path in ATLAS:
        doc = json.loads(path.read_text())
        if ("history" in doc) == history:
            built = {cid for rel in doc.get("history", {}).get("releases", [])
                     for cid in rel["ids"] or ()}
            return doc, next(c for c in doc["cells"] if not history or c["allocator"]["id"] in built)
    pytest.fail(f"results/atlas/ holds no results file {'with' if history else 'without'} "
                "a history block")


def test_the_atlas_holds_history_and_run_results():
    assert _atlas_doc(True) and _atlas_doc(False)


@pytest.mark.parametrize("path", ATLAS, ids=[p.parent.name for p in ATLAS])
def test_every_atlas_file_loads_through_the_results_model_and_says_where_it_came_from(path):
    doc = results.load(path)
    assert doc["cells"] and provenance_gaps(doc) == []


@pytest.mark.parametrize("field", ["name", "version", "mode", "commit"])
def test_an_atlas_cell_without_its_allocator_provenance_is_caught(field):
    doc, cell = _atlas_doc(history=True)
    cell["allocator"][field] = None
    assert provenance_gaps(doc) == [f"{cell['id']}: allocator.{field}"]


@pytest.mark.parametrize("where, field", [("compiler", "c"), ("compiler", "c_flags"),
                                          (None, "os"), (None, "libc"), ("harness", "version")])
def test_an_atlas_cell_without_its_build_or_host_provenance_is_caught(where, field):
    doc, cell = _atlas_doc(history=False)
    (cell["provenance"][where] if where else cell["provenance"])[field] = ""
    assert provenance_gaps(doc) == [f"{cell['id']}: {where + '.' if where else ''}{field}"]


def test_an_atlas_file_without_its_command_is_caught():
    doc, _ = _atlas_doc(history=False)
    doc["command"] = []
    assert provenance_gaps(doc) == ["command"]
