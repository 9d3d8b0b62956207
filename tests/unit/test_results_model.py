"""What a results document says as a whole (results/model.py): counts, the controls, and the
exit code every command that concludes a run gives (README "Exit codes")."""
import copy

import pytest

from resultsdocs import CELLS, cell, make_doc, rate, recorded
from tlsleak import results, vocab

pytestmark = pytest.mark.unit

PASSED = {"passed": True, "failures": []}


def only(*verdicts):
    """The controls (passing) and one scenario cell per verdict given."""
    scen = [cell("s%d" % i, "system:system", "scenario", v, r=rate(0, 1))
            for i, v in enumerate(verdicts)]
    return copy.deepcopy(CELLS[:2]) + scen


def test_counts_cover_every_verdict_even_absent_ones():
    assert results.summary_counts(CELLS) == {"ok": 1, "leak": 2, "inconclusive": 1,
                                             "crash": 1, "timeout": 1, "error": 1}
    assert results.summary_counts([]) == {v: 0 for v in vocab.VERDICTS}


def test_controls_pass_when_each_shows_what_it_must():
    assert results.check_controls(CELLS) == {"passed": True, "failures": [],
                                             "invalid_configs": []}


def test_a_flat_control_that_grows_says_the_configuration_measures_its_own_cost():
    cells = copy.deepcopy(CELLS[:2])
    cells[1].update(verdict="leak", rate=rate(65536, 10))
    ctl = results.check_controls(cells)
    assert not ctl["passed"]
    assert ctl["failures"] == ["control_flat-system: expected ok, got leak"]
    assert ctl["invalid_configs"][0]["config"] == "system@1.0:system"
    assert "65536 B/thread" in ctl["invalid_configs"][0]["why"]


@pytest.mark.parametrize("verdicts, interrupted, code", [
    (("ok",), False, vocab.EXIT_OK),
    (("ok", "leak"), False, vocab.EXIT_LEAK),
    (("crash",), False, vocab.EXIT_LEAK),
    (("timeout", "inconclusive"), False, vocab.EXIT_LEAK),
    (("ok", "inconclusive"), False, vocab.EXIT_INCONCLUSIVE),
    (("inconclusive", "error"), False, vocab.EXIT_INFRA),
    (("leak", "error"), False, vocab.EXIT_INFRA),
    (("inconclusive",), True, vocab.EXIT_INTERRUPTED),
])
def test_exit_code(verdicts, interrupted, code):
    """Inconclusive is never a silent pass: no leak and no error, but a scenario cell that
    could not be judged, is 4."""
    cells = only(*verdicts)
    assert results.exit_code(cells, results.check_controls(cells), interrupted) == code


def test_an_inconclusive_control_is_a_failed_control_not_exit_4():
    cells = only("ok")
    cells[1]["verdict"] = "inconclusive"
    assert results.exit_code(cells, results.check_controls(cells), False) == vocab.EXIT_INFRA


def test_with_a_baseline_only_a_new_finding_is_1_and_inconclusive_is_still_4():
    cells = only("leak", "inconclusive")
    changes = {"new": [], "fixed": [], "known": [cells[2]["id"]], "changed": [],
               "unknown_cell": []}
    assert results.exit_code(cells, PASSED, False, changes) == vocab.EXIT_INCONCLUSIVE
    changes["new"] = [cells[2]["id"]]
    assert results.exit_code(cells, PASSED, False, changes) == vocab.EXIT_LEAK
    cells = only("leak")
    changes["new"] = []
    assert results.exit_code(cells, PASSED, False, changes) == vocab.EXIT_OK


def test_the_recorded_runs_exit_code_is_what_the_model_says():
    doc = recorded()
    changes = {k: doc["baseline"][k] for k in ("new", "fixed", "known", "changed",
                                               "unknown_cell")}
    assert results.exit_code(doc["cells"], doc["controls"], doc["interrupted"],
                             changes) == doc["exit_code"]


def test_a_file_without_a_recorded_target_has_it_read_from_its_build_and_host():
    doc = make_doc()
    doc["build"]["system"] = "Linux-6.1.0"
    assert results.target_of(doc)["label"] == "linux-x86_64"
    doc["target"] = {"label": "windows-x86_64-wine", "platform": "wine", "os": "windows"}
    assert results.target_of(doc) is doc["target"]
