"""Programs that misbehave (a crash, a hang, a runaway, an interrupt) become clear verdicts,
and nothing measured is lost."""
import json
import os
import signal
import subprocess

import psutil
import pytest

from clihelp import ROOT, cell, run_cli
from procs import harness_of, running, started, wait_until

pytestmark = pytest.mark.integration


# The first cell ends; the second hangs until the test ends it (neither its budget nor its
# timeout comes first, however slow the machine).
HUNG_SECOND = ["-a", "system", "-j", "1", "--no-controls", "-s", "control_flat",
               "-s", "fault_hang_dtor", "--budget", "86400", "--timeout", "86400"]


def test_a_crash_is_a_crash_cell_and_the_matrix_goes_on(tmp_path):
    r = run_cli("run", "--out", tmp_path, "-a", "system", "-s", "fault_crash_dtor",
                "-s", "control_flat", "--no-controls", "-j", "1")
    assert r.rc == 1, r.stderr
    crash = cell(r.doc, "fault_crash_dtor", "system")
    assert crash["verdict"] == "crash"
    assert crash["exit"]["signal"] == signal.SIGSEGV
    assert "SIGSEGV" in crash["reason"] and "last checkpoint" in crash["reason"]
    assert crash["checkpoints"] and crash["checkpoints"][-1]["done"] > 0
    assert cell(r.doc, "control_flat", "system")["verdict"] == "ok"


def test_a_hang_is_a_timeout_and_no_process_is_left_behind(tmp_path, system_program):
    # The program hangs for ever: that the run ends at all is the timeout at work.
    r = run_cli("run", "--out", tmp_path, "-a", "system", "-s", "fault_hang_dtor",
                "--no-controls", "--timeout", "3", "--budget", "86400")
    assert r.rc == 1, r.stderr
    c = cell(r.doc, "fault_hang_dtor", "system")
    assert c["verdict"] == "timeout" and "killed" in c["reason"]
    assert c["duration_s"] >= 3
    assert running(system_program("fault_hang_dtor")) == []


def test_a_runaway_is_killed_at_the_cap_and_judged_a_leak(tmp_path, system_program):
    r = run_cli("run", "--out", tmp_path, "-a", "system", "-s", "fault_runaway",
                "--no-controls", "--max-rss", "600M", "--interval", "10")
    assert r.rc == 1, r.stderr
    c = cell(r.doc, "fault_runaway", "system")
    assert c["verdict"] == "leak" and c["runaway"] is True
    assert "RSS" in c["reason"] and "exceeded the cap 600 MiB" in c["reason"]
    assert 1.5 * 2**20 < c["rate"]["value"] < 2.5 * 2**20, c["rate"]
    assert max(s["rss"] for s in c["samples"]) < 800 * 2**20
    assert running(system_program("fault_runaway")) == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupt_keeps_the_finished_cells_and_exits_130(tmp_path, signum, system_program):
    argv = [str(ROOT / "tlsleak"), "run", "--out", str(tmp_path), *HUNG_SECOND]
    hang = system_program("fault_hang_dtor")
    with started(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                 env=dict(os.environ, TLSLEAK_SKIP_SETUP="1")) as proc:
        wait_until(lambda: running(hang), "the hanging cell starting")
        proc.send_signal(signum)
        proc.communicate(timeout=120)
    assert proc.returncode == 130
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["interrupted"] is True and doc["exit_code"] == 130
    assert [c["id"] for c in doc["cells"]] == ["control_flat-system"]
    assert doc["cells"][0]["verdict"] == "ok"
    assert running(system_program("fault_hang_dtor")) == []


def test_an_interrupt_taken_by_another_thread_than_the_main_one_still_stops_the_cell(
        tmp_path, system_program):
    """The kernel may hand a process's SIGINT to any of its threads (a sampling or reading
    thread of the harness); Python runs the handler in the main thread only once it wakes. The
    run must still stop, not when the hung cell reaches its timeout (it did, about once in 25
    interrupts); here the cell never ends by itself, so a run that ends at all took the
    interrupt. tgkill(2) gives the signal to one chosen thread."""
    import ctypes
    argv = [str(ROOT / "tlsleak"), "run", "--out", str(tmp_path), *HUNG_SECOND, "--no-report"]
    hang = system_program("fault_hang_dtor")
    with started(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                 env=dict(os.environ, TLSLEAK_SKIP_SETUP="1")) as proc:
        # The hanging cell is running, watched by the harness's threads.
        wait_until(lambda: running(hang), "the hanging cell starting")
        harness = harness_of(psutil.Process(proc.pid))
        others = [t.id for t in harness.threads() if t.id != harness.pid]
        assert others, "the harness runs its cells from threads beside the main one"
        libc = ctypes.CDLL(None, use_errno=True)
        assert libc.tgkill(harness.pid, others[-1], signal.SIGINT) == 0, ctypes.get_errno()
        try:
            proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            pytest.fail("the interrupt was held until the cell's own end")
    assert proc.returncode == 130
    doc = json.loads((tmp_path / "results.json").read_text())
    assert [c["id"] for c in doc["cells"]] == ["control_flat-system"]
    assert running(system_program("fault_hang_dtor")) == []


def test_two_runs_at_once_share_the_build_and_keep_their_results_apart(tmp_path):
    env = dict(os.environ, TLSLEAK_SKIP_SETUP="1")
    runs = [subprocess.Popen([str(ROOT / "tlsleak"), "run", "--out", str(tmp_path / str(i)),
                              "-a", "system", "-s", "control_flat", "--threads", "2000"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
            for i in range(2)]
    for p in runs:
        p.communicate(timeout=300)
        assert p.returncode == 0
    docs = [json.loads((tmp_path / str(i) / "results.json").read_text()) for i in range(2)]
    ids = [sorted(c["id"] for c in d["cells"]) for d in docs]
    assert ids[0] == ids[1] and "control_flat-system" in ids[0] and "control_leak-system" in ids[0]
    assert all(d["controls"]["passed"] for d in docs)


def test_exec_runs_exactly_the_argv_given_and_no_shell(tmp_path):
    # mkdir -p creates each argument literally, slashes and all; a shell would run the touches.
    odd = [f"{tmp_path}/a b; touch {tmp_path}/pwned", f"{tmp_path}/$(touch {tmp_path}/pwned2)"]
    r = run_cli("run", "--out", tmp_path / "out", "-a", "system",
                "--exec", "--", "/usr/bin/mkdir", "-p", *odd)
    assert r.rc == 4, r.stderr  # no thread, no checkpoint: inconclusive, never a silent pass
    assert all(os.path.isdir(p) for p in odd)
    assert not os.path.exists(tmp_path / "pwned") and not os.path.exists(tmp_path / "pwned2")
    c = r.doc["cells"][0]
    assert c["command"] == ["/usr/bin/mkdir", "-p", *odd]
    assert c["verdict"] == "inconclusive" and "no " in c["reason"] and "checkpoints" in c["reason"]


def test_only_the_configured_library_is_ever_preloaded(tmp_path, listing):
    """An LD_PRELOAD in the caller's environment must not leak into a system cell."""
    jemalloc = next(c["preload"] for c in listing["configs"] if c["preload"]
                    and c["name"] == "jemalloc")
    env = dict(os.environ, TLSLEAK_SKIP_SETUP="1", LD_PRELOAD=jemalloc)
    subprocess.run([str(ROOT / "tlsleak"), "run", "--out", str(tmp_path), "-a", "system",
                    "-s", "control_flat", "--no-controls", "--threads", "2000"],
                   env=env, capture_output=True, timeout=300)
    c = json.loads((tmp_path / "results.json").read_text())["cells"][0]
    assert c["observed_allocator"]["name"] == "system", c["observed_allocator"]
    assert c["env"] == {}


@pytest.mark.parametrize("content, says", [
    ("{not json", "is not valid JSON"),
    ('{"format": "something-else"}', "is not a tlsleak-baseline/2 file"),
])
def test_a_bad_baseline_is_refused_before_anything_runs(tmp_path, content, says):
    base = tmp_path / "base.json"
    base.write_text(content)
    r = run_cli("run", "--out", tmp_path / "out", "--baseline", base)
    assert r.rc == 2 and says in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
