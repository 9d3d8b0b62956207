"""The table a run prints (table.py): a row per cell, the counts, the notes on cells that are not
what they should be, and the conclusion after it, down to why the exit code is 4."""
import copy

import pytest

from resultsdocs import CELLS, HOSTILE, cell, exec_recorded, hostile_doc, make_doc, rate
from tlsleak import table, vocab

pytestmark = pytest.mark.unit


def test_table_has_a_row_per_cell_with_its_verdict():
    text = table.render_table(CELLS)
    lines = text.splitlines()
    for c in CELLS:
        # a cell is identified by scenario and config (its id is SCENARIO-NAME-MODE)
        row = [ln for ln in lines if ln.startswith(c["scenario"] + " ") and c["config"] in ln]
        assert len(row) == 1, c["id"]
        assert row[0].split()[3 if c["role"].startswith("control") else 2] == c["verdict"]


def test_table_details_name_each_unexpected_cell_by_id():
    text = table.render_table(CELLS)
    for c in CELLS:
        expected = vocab.CONTROL_EXPECT.get(c["role"], "ok")
        note = "  %s: %s: " % (c["id"], c["verdict"])
        assert (note in text) == (c["verdict"] != expected), c["id"]
    missed = dict(CELLS[0], verdict="ok", reason="rss flat")  # a positive control that missed
    assert "  control_leak-mimalloc@1.0-override: ok: rss flat" in table.render_table([missed])


def test_table_shows_rate_half_ci_signal_threads_and_time():
    text = table.render_table(CELLS)
    row = next(ln for ln in text.splitlines() if ln.startswith("seed_thread_local"))
    assert "2048 +- 20 (rss)" in row
    assert "20000/20000" in row
    assert "2.5 s" in row
    crash = next(ln for ln in text.splitlines() if ln.startswith("pthread_key_dtor_free"))
    assert "1500/20000" in crash


def test_table_columns_are_aligned():
    lines = table.render_table(CELLS, details=False).splitlines()
    header, rows = lines[0], lines[2:2 + len(CELLS)]
    col = header.index("verdict")
    for ln in rows:
        assert ln[col - 2:col] == "  " and ln[col] != " "
    # right-aligned time column: every row ends at the same place
    assert len({len(ln) for ln in rows}) == 1


def test_table_marks_controls_and_a_failed_control():
    bad = copy.deepcopy(CELLS[0])
    bad["verdict"] = "ok"
    text = table.render_table([bad, CELLS[1]])
    assert "control_leak [ctl+]" in text
    assert "control_flat [ctl-]" in text
    ctl_leak = next(ln for ln in text.splitlines() if ln.startswith("control_leak"))
    ctl_flat = next(ln for ln in text.splitlines() if ln.startswith("control_flat"))
    assert "ok !" in ctl_leak
    assert "!" not in ctl_flat


def test_table_summary_counts():
    text = table.render_table(CELLS)
    assert "7 cells: 1 ok, 2 leak, 1 inconclusive, 1 crash, 1 timeout, 1 error" in text


def test_table_is_plain_ascii_without_colour_and_coloured_with_it():
    plain = table.render_table(CELLS)
    assert "\x1b[" not in plain
    plain.encode("ascii")
    coloured = table.render_table(CELLS, color=True)
    assert "\x1b[1;31mleak" in coloured and "\x1b[32mok" in coloured


def test_table_details_give_the_reason_of_cells_that_are_not_ok():
    text = table.render_table(CELLS)
    assert "rss 130 B/thread (95% CI 70..190) straddles floor 128" in text
    assert "killed by SIGSEGV" in text
    assert "ok because" not in text
    assert "killed by SIGSEGV" not in table.render_table(CELLS, details=False)


def test_table_of_nothing():
    assert "0 cells: 0 ok" in table.render_table([])


def test_a_rate_in_another_unit_than_the_column_says_its_unit():
    """An --exec program without checkpoints is measured in B/s: the table must not show it as
    B/thread."""
    c = cell("prog", "system:system", "exec", "inconclusive", r=rate(2048, 10, unit="B/s"))
    row = next(line for line in table.render_table([c]).splitlines() if line.startswith("prog"))
    assert "2048 +- 10 B/s (rss)" in row
    c["rate"]["unit"] = "B/thread"
    assert "2048 +- 10 (rss)" in table.render_table([c])


# ---------------------------------------------------------------------------------------------
# the conclusion


def test_the_last_line_of_a_run_with_an_inconclusive_cell_and_no_leak_says_exit_4():
    cells = [c for c in CELLS if c["verdict"] in ("ok", "inconclusive") or c["role"] != "scenario"
             and c["verdict"] != "error"]
    doc = make_doc(cells, exit_code=vocab.EXIT_INCONCLUSIVE)
    last = table.run_text(doc).splitlines()[-1]
    assert last.startswith("exit 4: no leak found, but 1 cell could not be judged")
    assert "tss_dtor_free-jemalloc@1.0-dynamic" in last


def test_no_exit_4_line_when_the_run_exits_otherwise():
    text = table.run_text(make_doc(exit_code=vocab.EXIT_LEAK))
    assert "exit 4" not in text


def test_the_conclusion_names_what_the_baseline_said_and_failed_controls():
    doc = make_doc()
    doc["baseline"] = {"file": "b.json", "new": ["a-system"], "fixed": ["b-system"], "known": [],
                       "changed": [], "unknown_cell": []}
    doc["controls"] = {"passed": False, "failures": ["control_flat-system: expected ok, got leak"],
                       "invalid_configs": [{"config": "system", "why": "grows"}]}
    doc["interrupted"] = True
    lines = table.conclusion(doc)
    assert lines[0].startswith("INTERRUPTED: 7 cells finished")
    assert "unavailable: snmalloc:static (snmalloc@0.6:static): not found" in lines
    assert "NEW (not in the baseline): a-system" in lines
    assert "fixed (leaked in the baseline, ok now): b-system" in lines
    assert "detector self-check FAILED: control_flat-system: expected ok, got leak" in lines
    assert "  controls failed for system: grows" in lines


def test_text_from_programs_is_shown_on_the_terminal_never_sent():
    """A program name or reason holding ESC [2J would clear the screen, a U+202E would turn
    the line around: each is shown as \\xNN or \\uNNNN instead."""
    text = table.run_text(hostile_doc())
    assert "\x1b" not in text and "\u202e" not in text and "\x00" not in text
    assert "\\x1b[2J" in text and "\\u202e" in text and "\\x00" in text
    assert HOSTILE not in text


def test_the_table_lists_each_process_of_an_exec_command_that_started_several():
    # an --exec run through sh -c: the program judged on its own, the shell only recorded
    doc = exec_recorded()
    program, shell = doc["cells"][0]["subjects"]
    text = table.render_table(doc["cells"])
    assert "pid %d /home/me/build/churn_pthread 100000 2048: %d threads (probe), leak" % (
        program["pid"], program["threads_finished"]) in text
    assert "1 process(es) that finished no thread (recorded, not judged)" in text
    assert "pid %d " % shell["pid"] not in text
