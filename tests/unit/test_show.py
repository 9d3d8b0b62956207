"""One cell on the terminal (show.py), on the recorded run (resultsdocs.py)."""
import json
import re

import pytest

from resultsdocs import LEAK, cell_of, exec_recorded, hostile_doc, make_doc
from tlsleak import UsageError, cellinfo, cli, show, thinning

pytestmark = pytest.mark.unit


def test_show_prints_every_checkpoint_with_warmup_and_settle_marks(doc):
    leak = cell_of(doc, LEAK)
    text = show.show_cell(doc, leak)
    rows = [ln.split() for ln in text.splitlines() if re.match(r"\s+\d+\s", ln)]
    assert [int(r[0]) for r in rows] == [c["done"] for c in leak["checkpoints"]]
    assert [r[1] == "w" for r in rows] == [c["done"] < 400 for c in leak["checkpoints"]]
    assert rows[-1][-2:] == ["<-", "settled"]
    assert leak["reason"] in text and cellinfo.command_line(leak) in text


def test_show_thins_a_long_series_keeping_first_and_last(doc):
    c = dict(cell_of(doc, LEAK))
    c["checkpoints"] = [dict(c["checkpoints"][0], done=i) for i in range(1000)]
    c.pop("settled_at")
    text = show.show_cell(doc, c)
    rows = [int(ln.split()[0]) for ln in text.splitlines() if re.match(r"\s+\d+\s", ln)]
    assert rows == thinning.evenly(1000, show.MAX_ROWS) and rows[0] == 0 and rows[-1] == 999
    assert "(%d of 1000 checkpoints shown)" % show.MAX_ROWS in text


@pytest.mark.parametrize("query, words", [("nothing_like_it", "no cell matches"),
                                          ("control_flat", "matches 2 cells")])
def test_show_says_in_one_line_when_a_query_names_no_cell_or_several(doc, query, words):
    with pytest.raises(UsageError) as e:
        show.show(doc, query)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_a_programs_escape_codes_are_shown_never_sent_to_the_terminal():
    """`show` writes what a program printed (its stderr, its name, the reason): an escape
    sequence there would act on the reader's terminal."""
    doc = hostile_doc()
    text = show.show(doc, "seedev")
    assert "\x1b" not in text and "\u202e" not in text and "\x00" not in text
    assert "\\x1b[2J" in text and "err ev``il" in text


@pytest.mark.parametrize("command", [["show", "seed"], ["report"]])
def test_a_results_file_with_wrong_types_is_one_line_exit_2(tmp_path, capsys, command):
    """A rate that is a string (or a cell that is not an object) was an internal error, exit 3,
    from show and report: it is bad input."""
    doc = make_doc()
    doc["cells"][2]["rate"] = "2048 B/thread"
    path = tmp_path / "results.json"
    path.write_text(json.dumps(doc))
    assert cli.main([*command, str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"tlsleak: error: results {path} is not a valid tlsleak-results/2 file: "
                   "cells[2].rate: '2048 B/thread' is not an object"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def test_show_lists_the_processes_of_an_exec_cell_and_reproduces_it_with_its_command():
    doc = exec_recorded()
    cell = doc["cells"][0]
    program = cell["subjects"][0]
    text = show.show(doc, cell["id"])
    assert "pid %d /home/me/build/churn_pthread 100000 2048: %d threads (probe), leak" % (
        program["pid"], program["threads_finished"]) in text
    assert "./tlsleak run -a system --threads 4000 --floor 128 --exec -- sh -c " \
           "'/home/me/build/churn_pthread 100000 2048'" in text
