"""The output folder (results/outdir.py): a command refuses, before running, a folder holding
another run's results, one of its own inputs, or views tlsleak did not write, unless
--overwrite; it replaces its own views; it writes results.json and junit.xml as a pair."""
import pytest

from resultsdocs import make_doc
from tlsleak import InfraError, UsageError, results

pytestmark = pytest.mark.unit


def test_an_empty_or_new_folder_is_claimed(tmp_path):
    assert results.claim_out_dir(tmp_path) == tmp_path.resolve()
    assert results.claim_out_dir(tmp_path / "new" / "deeper") == (tmp_path / "new/deeper").resolve()


def test_another_runs_results_are_refused_unless_overwrite(tmp_path):
    (tmp_path / "results.json").write_text("{}")
    with pytest.raises(UsageError, match="holds another run's results.json .*--overwrite"):
        results.claim_out_dir(tmp_path)
    assert results.claim_out_dir(tmp_path, overwrite=True) == tmp_path.resolve()


def test_an_input_in_the_folder_is_named_as_one(tmp_path):
    (tmp_path / "results.json").write_text("{}")
    with pytest.raises(UsageError, match="holds one of the inputs, results.json"):
        results.claim_out_dir(tmp_path, inputs=[tmp_path / "results.json"])


@pytest.mark.parametrize("name, content", [
    ("summary.md", "# My notes\n"), ("report.html", "<html><title>mine</title></html>"),
    ("plots/figure1.png", "png"), ("summary.md/", None)])
def test_a_view_name_taken_by_a_file_tlsleak_did_not_write_is_refused(tmp_path, name, content):
    path = tmp_path / name.rstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    if content is None:
        path.mkdir()
    else:
        path.write_text(content)
    with pytest.raises(UsageError, match="not tlsleak's: not replaced") as e:
        results.claim_out_dir(tmp_path)
    assert "\n" not in str(e.value)
    assert results.claim_out_dir(tmp_path, views=False)  # --no-report writes no views
    assert results.claim_out_dir(tmp_path, overwrite=True)
    assert path.exists()  # claiming removes nothing


def test_tlsleak_own_views_are_replaced(tmp_path):
    (tmp_path / "summary.md").write_text("## tlsleak: 0 findings in 2 cells (controls passed)\n")
    (tmp_path / "report.html").write_text('<!DOCTYPE html><html lang="en"><head><meta '
                                          'charset="utf-8"><title>tlsleak: 0 findings</title>')
    (tmp_path / "plots").mkdir()
    for name in ("grid.png", "grid.svg", "cell-a-system.png"):
        (tmp_path / "plots" / name).write_text("x")
    results.claim_out_dir(tmp_path)


def test_a_view_path_given_explicitly_follows_the_same_rule(tmp_path):
    mine = tmp_path / "notes.md"
    mine.write_text("notes\n")
    with pytest.raises(UsageError, match="notes.md is not tlsleak's"):
        results.claim_views(results.view_paths(tmp_path, md=mine))


def test_a_file_where_the_folder_should_be_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(UsageError, match="is a file"):
        results.claim_out_dir(tmp_path / "f")


def test_outputs_are_written_as_a_pair_replacing_the_old_pair(tmp_path):
    (tmp_path / "junit.xml").write_text("old")
    results.write_outputs(tmp_path, make_doc())
    assert results.load(tmp_path) == make_doc()
    assert (tmp_path / "junit.xml").read_text().startswith("<?xml")


def test_outputs_that_cannot_be_written_are_one_infrastructure_line(tmp_path):
    (tmp_path / "results.json").mkdir()  # a folder where the file must go
    with pytest.raises(InfraError, match="could not write results.json") as e:
        results.write_outputs(tmp_path, make_doc())
    assert (tmp_path / "junit.xml").is_file() and "\n" not in str(e.value)
