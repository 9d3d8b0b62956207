"""What every view asks of a cell (cellinfo.py), on the recorded run (resultsdocs.py)."""
import json

import pytest

from resultsdocs import CRASH, LEAK, OK, cell_of
from tlsleak import cellinfo

pytestmark = pytest.mark.unit


def test_fixture_holds_what_the_views_need(doc):
    verdicts = {c["verdict"] for c in doc["cells"]}
    assert {"leak", "ok", "crash"} <= verdicts
    assert all(c["checkpoints"] for c in doc["cells"])
    assert cell_of(doc, LEAK)["baseline"]["status"] == "known"


# ---------------------------------------------------------------------------------------------
# which cells matter


def test_interesting_cells_are_findings_and_surprises_not_controls_that_passed(doc):
    ids = [c["id"] for c in cellinfo.interesting_cells(doc)]
    assert ids == [LEAK, CRASH]


def test_a_control_that_missed_is_interesting(doc):
    ctl = dict(cell_of(doc, "control_flat-system"), verdict="leak")
    assert cellinfo.is_interesting(ctl)


def test_a_finding_sits_beside_the_flat_control_of_its_configuration(doc):
    flat = cellinfo.flat_control(doc, cell_of(doc, LEAK))
    assert flat["id"] == "control_flat-mimalloc@2.0.9-dynamic"


def test_cells_to_plot_are_the_findings_and_their_controls_only(doc):
    ids = {c["id"] for c in cellinfo.cells_to_plot(doc)}
    assert {LEAK, CRASH, "control_flat-mimalloc@2.0.9-dynamic", "control_flat-system"} <= ids
    assert OK not in ids


def test_settle_point_is_the_checkpoint_the_run_recorded_even_with_later_ones(doc):
    """Checkpoints keep arriving between the settling look and the kill: the settle point is
    the recorded one, not the last checkpoint."""
    late = cell_of(doc, "control_leak-system")
    assert cellinfo.settled_at(late) == late["settled_at"] < late["checkpoints"][-1]["done"]
    assert late["settled_at"] in [c["done"] for c in late["checkpoints"]]
    assert cellinfo.settled_at(cell_of(doc, CRASH)) is None  # the crash ended it, not a verdict


def test_a_cell_the_harness_stopped_is_not_shown_as_killed_by_a_signal(doc):
    leak = cell_of(doc, LEAK)
    assert leak["exit"]["stopped_by_harness"] and leak["exit"]["signal"] is None
    rows = dict(cellinfo.cell_provenance(leak))
    assert rows["exit"] == "stopped by the harness once the verdict was settled"
    assert dict(cellinfo.cell_provenance(cell_of(doc, CRASH)))["exit"] == "code -11, signal 11"


def test_warmup_end_is_the_setting_times_the_final_threads_done(doc):
    x, _ = cellinfo.series(cell_of(doc, LEAK), "rss")
    assert cellinfo.warmup_end(doc, cell_of(doc, LEAK), x) == pytest.approx(0.2 * 2000)


def test_reproduce_command_carries_the_environment_quoted():
    c = {"command": ["/b/prog", "--size", "1024"], "env": {"LD_PRELOAD": "/lib/a b.so"}}
    assert cellinfo.command_line(c) == "env LD_PRELOAD='/lib/a b.so' /b/prog --size 1024"


def test_find_cell_takes_an_id_or_an_unambiguous_part(doc):
    assert cellinfo.find_cell(doc, "fault_crash")["id"] == CRASH
    assert cellinfo.find_cell(doc, "control_flat") is None  # two cells match
    assert cellinfo.find_cell(doc, "last_round_alloc-system")["id"] == OK  # exact beats part


def test_headline_without_controls_does_not_claim_they_passed(doc):
    d = json.loads(json.dumps(doc))
    d["cells"] = [c for c in d["cells"] if not cellinfo.is_control(c)]
    assert cellinfo.headline(d).endswith("(no controls)")


# ---------------------------------------------------------------------------------------------
# the command that runs a cell again

DOC = {"settings": {"threads": 10000, "concurrency": 1, "size": 1024, "interval": 250,
                    "floor": 128}, "command": ["tlsleak", "run"]}


def test_an_exec_cell_is_reproduced_by_its_exec_command():
    cell = {"scenario": "sh", "role": "exec", "config": "mimalloc:override",
            "command": ["sh", "-c", "./prog 10000 2048"]}
    assert cellinfo.tlsleak_command(DOC, cell) == (
        "./tlsleak run -a mimalloc:override --threads 10000 --floor 128 --exec -- "
        "sh -c './prog 10000 2048'")


def test_a_scenario_cell_is_reproduced_by_its_scenario():
    cell = {"scenario": "seed_thread_local", "role": "scenario", "config": "system",
            "command": ["/b/seed_thread_local", "--threads", "10000"]}
    assert cellinfo.tlsleak_command(DOC, cell) == (
        "./tlsleak run -s seed_thread_local -a system --threads 10000 --concurrency 1 "
        "--size 1024 --interval 250 --floor 128")


def test_the_observed_allocator_says_when_its_check_could_only_compare_files():
    """rpmalloc has no call that claims a block (owns_by=file) and no version call."""
    seen = {"name": "rpmalloc", "version": "", "owns": True, "owns_by": "file",
            "malloc_from": "/x/librpmalloc.so", "libc": "glibc-2.36"}
    rows = dict(cellinfo.cell_provenance({"observed_allocator": seen}))
    assert rows["observed"] == ("rpmalloc (no version call), malloc from /x/librpmalloc.so, "
                                "glibc-2.36" + cellinfo.OWNS_BY_FILE)
    rows = dict(cellinfo.cell_provenance({"observed_allocator": {**seen, "owns_by": "block",
                                                                 "version": "0.7.5"}}))
    assert rows["observed"] == "rpmalloc 0.7.5, malloc from /x/librpmalloc.so, glibc-2.36"


def test_a_configuration_whose_flat_control_grows_has_its_cost_told_beside_its_findings():
    """A negative control that grows is the configuration's own cost per exited thread (the
    MinGW mimalloc DLL: ~66 KB/thread, results/wine/): the views say it, and what each of that
    configuration's leaks grows beyond it, so a scenario's leak is told from the cost."""
    from resultsdocs import wine_recorded
    from tlsleak import summary_md
    doc = wine_recorded()
    for c in doc["cells"]:
        if c["id"] == "control_flat-mimalloc@2.0.9-static":
            c["verdict"], c["rate"]["value"] = "leak", 66642.0
    (line,) = cellinfo.configuration_costs(doc)
    assert line.startswith("mimalloc:static: its control_flat grows 66642 B/thread")
    assert "seed_thread_local leak 284805 (+218163 beyond it)" in line
    assert "control_leak" not in line.split("beside it")[1]  # controls are not findings
    assert "cost of mimalloc:static: its control_flat" in summary_md.summary_markdown(doc)
    assert cellinfo.configuration_costs(wine_recorded()) == []  # flat controls: no cost
