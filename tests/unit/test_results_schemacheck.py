"""The shipped schema and the harness's own reading of it (results/schemacheck.py): documents
the harness writes validate; documents that break it are refused by both jsonschema (the
reference implementation, https://python-jsonschema.readthedocs.io) and schemacheck, which
must agree, and schemacheck says where."""
import copy
import json

import jsonschema
import pytest

from resultsdocs import CELLS, exec_recorded, make_doc, recorded, wine_recorded
from tlsleak import results
from tlsleak.checkpoints import CheckpointLog
from tlsleak.results import schemacheck
from tlsleak.stats import judge_signals

pytestmark = pytest.mark.unit

SCHEMA = json.loads(results.SCHEMA_PATH.read_text())


@pytest.fixture(scope="module")
def validator():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    return jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())


@pytest.fixture(scope="module")
def check():
    return schemacheck.compile(SCHEMA)


@pytest.mark.parametrize("doc", [make_doc(), recorded(), wine_recorded(), exec_recorded()],
                         ids=["synthetic", "recorded", "wine", "exec"])
def test_results_docs_validate_in_both(validator, check, doc):
    validator.validate(doc)
    check(doc)


def test_results_from_a_real_judgement_validate(validator, check):
    lines = ["TLSLEAK/1 cp done=%d t_ns=%d rss=%d maps=40" % (x, x, 4 << 20 | 0) for x in
             range(0, 20001, 500)]
    log = CheckpointLog.from_lines(lines, 0.5)
    judged = judge_signals(log)
    c = copy.deepcopy(CELLS[1])
    c.update(verdict=judged.verdict, reason=judged.reason, signal=judged.signal,
             rate=judged.rate.to_dict(), signals=judged.signals_dict(), checkpoints=log.checkpoints)
    validator.validate(make_doc([c]))
    check(make_doc([c]))


BROKEN = [
    (lambda d: d["cells"][0].update(verdict="leaky"), "cells[0].verdict"),
    (lambda d: d["cells"][0].update(role="control"), "cells[0].role"),
    (lambda d: d["cells"][0]["rate"].pop("unit"), "cells[0].rate"),
    (lambda d: d["cells"][0]["rate"].update(unit="B"), "cells[0].rate.unit"),
    (lambda d: d["cells"][0]["rate"].update(ci=[1.0]), "cells[0].rate.ci"),
    (lambda d: d["cells"][0].update(id="seed-mimalloc-override"), "cells[0].id"),
    (lambda d: d["cells"][0]["signals"]["rss"].update(verdict="crash"),
     "cells[0].signals.rss.verdict"),
    (lambda d: d["cells"][0].pop("threads"), "cells[0]"),
    (lambda d: d["cells"][0]["exit"].update(code="0"), "cells[0].exit.code"),
    (lambda d: d.update(schema="tlsleak-results/1"), "schema"),
    (lambda d: d["summary"].pop("timeout"), "summary"),
    (lambda d: d["settings"].update(threads=2.5), "settings.threads"),
    (lambda d: d.pop("controls"), ""),
    (lambda d: d["host"].update(cpus="8"), "host.cpus"),
    (lambda d: d.update(started="yesterday"), "started"),
    (lambda d: d["cells"][0]["checkpoints"][0].pop("done"), "cells[0].checkpoints[0]"),
    # wrong types where a view would fail on them (issue: cells that are not objects, a rate
    # that is a string)
    (lambda d: d["cells"].__setitem__(1, "control_flat"), "cells[1]"),
    (lambda d: d["cells"][2].update(rate="2048 B/thread"), "cells[2].rate"),
    (lambda d: d["cells"][2].update(reason=None), "cells[2].reason"),
    (lambda d: d["cells"][2]["rate"].update(value="2048"), "cells[2].rate.value"),
    (lambda d: d.update(cells={}), "cells"),
    (lambda d: d["cells"][2]["checkpoints"][1].update(rss=True), "cells[2].checkpoints[1].rss"),
    (lambda d: d["controls"].update(failures="none"), "controls.failures"),
]


@pytest.mark.parametrize("mutate, where", BROKEN)
def test_a_broken_document_is_refused_by_both_and_the_checker_says_where(validator, check,
                                                                        mutate, where):
    doc = make_doc()
    mutate(doc)
    assert list(validator.iter_errors(doc))
    with pytest.raises(schemacheck.Invalid) as e:
        check(doc)
    assert e.value.where == where
    assert "\n" not in str(e.value)


def test_fields_added_later_are_allowed(validator, check):
    doc = make_doc()
    doc["cells"][0]["new_field"] = {"anything": [1, 2]}
    doc["new_top"] = 1
    doc["cells"][0]["rate"]["method"] = "theil-sen"
    validator.validate(doc)
    check(doc)


def test_a_keyword_the_checker_does_not_read_is_refused_when_compiled():
    """A constraint added to the schema must never be skipped in silence."""
    with pytest.raises(ValueError, match="uniqueItems"):
        schemacheck.compile({"type": "array", "uniqueItems": True})
    with pytest.raises(ValueError, match="only a place in itself"):
        schemacheck.compile({"$ref": "https://example.com/other.json"})


@pytest.mark.parametrize("value, kind, ok", [
    (1, "integer", True), (1.0, "integer", True), (1.5, "integer", False),
    (True, "integer", False), (True, "number", False), (None, "null", True),
    (0, "boolean", False), ("1", "number", False)])
def test_types_are_json_schema_types(validator, value, kind, ok):
    """As JSON Schema says: a bool is not a number, 1.0 is an integer."""
    check = schemacheck.compile({"type": kind})
    assert jsonschema.Draft202012Validator({"type": kind}).is_valid(value) == ok
    if ok:
        check(value)
    else:
        with pytest.raises(schemacheck.Invalid):
            check(value)


def test_a_program_whose_name_holds_a_space_gives_a_valid_cell_id(validator, check):
    """`run --exec -- "./my prog"` makes the cell `my prog-system`: the harness must be able
    to read its own results back."""
    doc = make_doc()
    doc["cells"][2].update(id="my prog-system", scenario="my prog", role="exec")
    validator.validate(doc)
    check(doc)


@pytest.mark.parametrize("schema, value", [
    ({"type": "string", "maxLength": 3}, "abc"), ({"type": "string", "maxLength": 3}, "abcd"),
    ({"allOf": [{"type": "integer"}, {"minimum": 2}]}, 3),
    ({"allOf": [{"type": "integer"}, {"minimum": 2}]}, 1),
    ({"oneOf": [{"type": "integer"}, {"type": "number"}]}, 1),
    ({"oneOf": [{"type": "integer"}, {"type": "number"}]}, 1.5),
    ({"oneOf": [{"type": "integer"}, {"type": "string"}]}, None),
])
def test_keywords_a_later_schema_may_use_agree_with_jsonschema(schema, value):
    check = schemacheck.compile(schema)
    try:
        check(value)
        ours = True
    except schemacheck.Invalid:
        ours = False
    assert ours == jsonschema.Draft202012Validator(schema).is_valid(value)
