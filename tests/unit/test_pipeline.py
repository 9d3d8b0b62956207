"""The cell pipeline (harness/tlsleak/pipeline.py) without starting a process: how a cell is
planned, and that a cell that cannot start or whose judging fails is that cell's `error`
record while the others are recorded, in plan order. Cells that run real programs through it:
every integration test of run, compare, bisect, bench and explore."""
import dataclasses
import signal

import pytest

from tlsleak import configs, interrupts, pipeline
from tlsleak.settings import Settings

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def process_left_as_it_was(monkeypatch):
    """run_cells takes the interrupt signals and makes the harness a subreaper: not pytest."""
    old = {s: signal.getsignal(s) for s in interrupts.TAKEN}
    monkeypatch.setattr(pipeline.host, "become_subreaper", lambda: False)
    yield
    for s, h in old.items():
        signal.signal(s, h)

SYSTEM = configs.Config(id="system", name="system", version="", mode="system", available=True,
                        reason="", bin_dir="/bin", target="", preload="", library="", origin="",
                        expect="system")
# An override whose library is not there: its cell can never start, so no process runs here.
GONE = dataclasses.replace(SYSTEM, id="gone@1:override", name="gone", version="1",
                           mode="override", preload="/nonexistent/libgone.so", expect="gone")


def test_an_exec_cell_expects_the_allocator_only_under_an_override():
    assert pipeline.exec_cell(["/usr/bin/prog", "-x"], SYSTEM, None).expect == ""
    cell = pipeline.exec_cell(["/usr/bin/prog", "-x"], GONE, None)
    assert (cell.id, cell.scenario, cell.role, cell.expect, cell.argv) == \
        ("prog-gone@1-override", "prog", "exec", "gone", ["/usr/bin/prog", "-x"])


def test_a_program_cell_carries_its_arguments_and_environment():
    cell = pipeline.program_cell("explore_point", ["--tls", "c11"], SYSTEM, env={"A": "1"})
    assert cell.argv == ["/bin/explore_point", "--tls", "c11"] and cell.env == {"A": "1"}
    assert cell.id == "explore_point-system" and cell.expect == "system"


def test_cells_that_cannot_start_are_error_records_in_plan_order():
    cells = [pipeline.program_cell(f"p{i}", [], GONE) for i in range(3)]
    records, interrupted = pipeline.run_cells(cells, Settings(), 2, show_progress=False)
    assert not interrupted
    assert [r["id"] for r in records] == [c.id for c in cells]
    assert {r["verdict"] for r in records} == {"error"}
    assert "preload library missing" in records[0]["reason"]


def test_a_cell_whose_judging_fails_is_its_own_error_never_the_run_s_end():
    # A preload that is no path: the environment cannot be made (os.path.isabs raises).
    broken = pipeline.program_cell("p", [], dataclasses.replace(GONE, preload=42))
    fine = pipeline.program_cell("q", [], GONE)
    records, _ = pipeline.run_cells([broken, fine], Settings(), 1, show_progress=False)
    assert [r["verdict"] for r in records] == ["error", "error"]
    assert records[0]["reason"].startswith("harness failure in this cell: TypeError")
