"""Whatever a child prints or does, the run survives, the harness stays small, nothing outlives
it, the environment is controlled and recorded, and a finished run is never thrown away. The
misbehaving program is tests/programs/hostile.py."""
import fcntl
import json
import os
import pty
import select
import shlex
import shutil
import signal
import subprocess
import threading
import time

import psutil
import pytest

from clihelp import ROOT, cell, run_cli
from procs import harness_of, matching, release, running, started, wait_until, working_in

pytestmark = pytest.mark.integration

HOSTILE = str(ROOT / "tests" / "programs" / "hostile.py")
SCHEMA = json.loads((ROOT / "harness" / "tlsleak" / "schema" / "results-2.schema.json")
                    .read_text())
ENV = dict(os.environ, TLSLEAK_SKIP_SETUP="1")
# A hanging cell under these lasts until the test ends it: neither its budget nor its timeout
# comes first, however slow the machine.
LASTS = ["--budget", "86400", "--timeout", "86400"]


def hostile(tmp_path, mode, n, *opts, name="out"):
    return run_cli("run", "--out", tmp_path / name, "-a", "system", *opts,
                   "--exec", "--", HOSTILE, mode, str(n))


@pytest.mark.parametrize("mode", ["bigint", "negative", "nan", "inf"])
def test_values_no_figure_can_take_are_counted_and_the_results_stay_valid(tmp_path, mode):
    jsonschema = pytest.importorskip("jsonschema")
    r = run_cli("run", "--out", tmp_path, "-a", "system", "-a", "mimalloc:override",
                "--exec", "--", HOSTILE, mode, "200")
    assert r.rc == 0, r.stderr
    jsonschema.validate(r.doc, SCHEMA)
    for c in r.doc["cells"]:
        assert c["verdict"] == "ok" and c["malformed_lines"] > 0
        assert "malformed TLSLEAK/1 line(s) ignored" in c["reason"]


def test_the_default_rss_cap_is_shared_by_the_cells_that_run_not_the_jobs_asked(tmp_path):
    r = hostile(tmp_path, "flat_big", 250, "-j", "64")
    c = r.doc["cells"][0]
    assert c["verdict"] == "ok", c["reason"]
    assert r.doc["settings"]["max_rss"] == psutil.virtual_memory().total // 2


def test_a_cap_broken_without_measured_growth_is_not_a_leak(tmp_path):
    r = hostile(tmp_path, "flat_big", 200, "--max-rss", "100M")
    c = r.doc["cells"][0]
    assert c["verdict"] == "inconclusive" and "no growth was measured" in c["reason"]
    assert r.rc == 4  # inconclusive is never a silent pass (README "Exit codes")


class PeakRSS(threading.Thread):
    """The largest RSS of one process, sampled until it exits."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.proc, self.peak = psutil.Process(pid), 0

    def run(self):
        try:
            while True:
                self.peak = max(self.peak, self.proc.memory_info().rss)
                time.sleep(0.02)
        except psutil.Error:
            pass


@pytest.mark.parametrize("mode, n", [("long_line", 150), ("stderr_flood", 150),
                                     ("many_checkpoints", 100_000)])
def test_the_harness_memory_stays_bounded_whatever_the_child_prints(tmp_path, mode, n):
    argv = [str(ROOT / "tlsleak"), "run", "--out", str(tmp_path), "-a", "system",
            "--timeout", "60", "--exec", "--", HOSTILE, mode, str(n)]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    launched = psutil.Process(proc.pid)
    deadline = time.monotonic() + 30
    while harness_of(launched) is launched and time.monotonic() < deadline:
        time.sleep(0.01)  # the warden splits off the harness once the interpreter is up
    peak = PeakRSS(harness_of(launched).pid)
    peak.start()
    _, err = proc.communicate(timeout=120)
    peak.join(timeout=5)
    # Judged, whatever it printed: 4 when it finished no thread to judge (long_line, stderr_flood).
    assert proc.returncode in (0, 1, 4), err[-2000:]
    assert peak.peak < 200 << 20, f"harness peaked at {peak.peak >> 20} MiB"
    assert (tmp_path / "results.json").stat().st_size < 2 << 20
    c = json.loads((tmp_path / "results.json").read_text())["cells"][0]
    assert len(c["checkpoints"]) <= 2000 and len(c["stderr_tail"]) <= 2000


def test_a_grandchild_that_escapes_with_setsid_is_killed_at_cell_end(tmp_path):
    """The cell's program ends while the grandchild it left in a session of its own runs on:
    that one comes back to the harness (a subreaper), which kills it at the cell's end. The
    program ends only once the grandchild is there."""
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    argv = [str(ROOT / "tlsleak"), "run", "--out", str(tmp_path / "out"), "-a", "system",
            *LASTS, "--exec", "--", HOSTILE, "escape_gate", str(gate)]
    with started(argv, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                 text=True) as proc:
        wait_until(lambda: len(matching(HOSTILE, str(gate))) == 2, "the grandchild escaping")
        release(gate)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    c = json.loads((tmp_path / "out" / "results.json").read_text())["cells"][0]
    assert c["verdict"] == "ok" and "escaped pid" in c["stderr_tail"], c["reason"]
    assert matching(HOSTILE, str(gate)) == []


WRAPPED_HANG = f"{shlex.quote(HOSTILE)} hang 0; exit 0"  # a shell forks it: a grandchild


@pytest.mark.parametrize("killed", ["harness", "launched process"])
@pytest.mark.parametrize("program, words, want", [
    ([HOSTILE, "hang", "0"], [HOSTILE, "hang"], 1),
    ([HOSTILE, "setsid_escape", "0"], [HOSTILE, "setsid_escape"], 2),  # and its parent
    (["sh", "-c", WRAPPED_HANG], [HOSTILE, "hang", "0"], 2)],  # the shell and its child
    ids=["hung cell", "grandchild gone with setsid", "program behind a wrapper script"])
def test_nothing_a_cell_started_outlives_a_sigkill(tmp_path, program, words, want, killed):
    """The cells die with the harness (PDEATHSIG); what they started comes back to a warden
    that outlives it (Linux: a subreaper), or to the harness when the warden is the one
    killed."""
    argv = [str(ROOT / "tlsleak"), "run", "--out", str(tmp_path), "-a", "system",
            *LASTS, "--exec", "--", *program]
    with started(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV) as proc:
        wait_until(lambda: len(matching(*words)) == want, "the cell's processes starting")
        launched = psutil.Process(proc.pid)
        target = harness_of(launched) if killed == "harness" else launched
        target.send_signal(signal.SIGKILL)
        proc.wait(timeout=120)
    wait_until(lambda: not matching(*words), "the cell's processes ending")
    assert proc.returncode == -signal.SIGKILL  # the caller sees the harness's end


# A compiler that never returns, so the build lasts until the test has interrupted it:
# as the C compiler, CMake's configure runs it; as the compiler launcher, only the compile of
# the repro programs does (CMake's own probes pass through).
BLOCKING = {"configure": ("CC", "touch '{mark}'; exec sleep 86400\n"),
            "compile": ("CMAKE_C_COMPILER_LAUNCHER",
                        'case "$*" in */repro/*) touch \'{mark}\'; exec sleep 86400;; esac\n'
                        'exec "$@"\n')}


@pytest.mark.parametrize("phase", ["configure", "compile"])
def test_sigterm_during_the_build_kills_the_build_and_frees_the_lock(tmp_path, phase):
    build, mark, blocker = tmp_path / "build", tmp_path / "blocked", tmp_path / "blocker"
    variable, body = BLOCKING[phase]
    blocker.write_text("#!/bin/sh\n" + body.format(mark=mark))
    blocker.chmod(0o755)
    argv = [str(ROOT / "tlsleak"), "run", "--out", str(tmp_path / "out"), "-a", "system",
            "-s", "control_flat", "--no-controls", "--build-dir", str(build)]
    with started(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                 env=dict(ENV, **{variable: str(blocker)})) as proc:
        wait_until(mark.exists, f"the {phase} step reaching the compiler")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err, err
    # Killed and waited for before the harness ended: nothing left, the lock free at once.
    assert matching(str(build)) == [] and working_in(build) == []
    with open(build / ".tlsleak.lock", "w") as fh:  # free at once
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)


@pytest.mark.parametrize("delay", [0.05, 0.3, 1.0])
def test_ctrl_c_during_start_up_exits_130_without_a_traceback(tmp_path, delay):
    """The status as the user's shell reports it (130 = 128 + SIGINT, however the harness ends:
    a signal before the interpreter is up is a death by SIGINT, later it is exit 130). The run's
    one cell hangs until it is killed, so whatever the delay lands in (the launcher, the
    imports, the build, the cell), there is a run to interrupt."""
    script = (f'"$0" run --out "{tmp_path}" -a system --no-controls -s fault_hang_dtor '
              f'{" ".join(LASTS)}; echo "status=$?" >&2')
    with started(["bash", "-c", script, str(ROOT / "tlsleak")], env=ENV,
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        time.sleep(delay)  # when to interrupt, not a wait for something to happen
        harness = []
        wait_until(lambda: harness.extend(psutil.Process(proc.pid).children()) or harness,
                   "the shell starting tlsleak")  # the launcher/harness, not the shell
        for p in harness:
            p.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    assert "status=130" in err and "Traceback" not in err, err


@pytest.mark.parametrize("lost, code", [("stdout", 141), ("stderr", 0), ("full stdout", 3)])
def test_a_run_whose_reader_went_away_still_writes_everything(tmp_path, lost, code):
    """`tlsleak run | head`, a `2>&1 | tee` cut short, `> file` on a full disk: the first
    write that fails used to end the run before anything was written. Lost standard output
    ends as SIGPIPE would (141); lost standard error changes nothing but the messages; output
    that cannot be written (/dev/full: ENOSPC) is an infrastructure failure, said in one line."""
    r, w = os.pipe()
    os.close(r)  # a reader gone before the first line
    err, out = tmp_path / "stderr", tmp_path / "out"
    with open("/dev/full", "w") as full, open(err, "w") as said:
        stdout = {"stdout": w, "stderr": subprocess.DEVNULL, "full stdout": full}[lost]
        stderr = w if lost == "stderr" else said
        argv = [str(ROOT / "tlsleak"), "run", "--out", str(out), "-a", "system",
                "-s", "control_flat"]
        proc = subprocess.run(argv, env=ENV, timeout=120, stdout=stdout, stderr=stderr)
    os.close(w)
    assert proc.returncode == code, err.read_text()
    if lost == "full stdout":
        assert err.read_text().splitlines()[-1].startswith(
            "tlsleak: could not write the output: No space left on device")
    doc = json.loads((out / "results.json").read_text())
    assert len(doc["cells"]) == 3 and doc["controls"]["passed"]
    assert (out / "junit.xml").exists() and (out / "report.html").exists()


HUNG_SECOND = ["-a", "system", "-j", "1", "--no-controls", "-s", "control_flat",
               "--threads", "2000", "-s", "fault_hang_dtor", *LASTS]


@pytest.fixture
def hang(system_program):
    """HUNG_SECOND's second cell: its program, and whether it is running (the first cell is
    then done)."""
    program = system_program("fault_hang_dtor")
    return lambda: running(program)


def _on_a_terminal(argv, act, ready, nohup=False):
    """Run argv on a pty (a session of its own, the pty its terminal; SIGHUP ignored with
    `nohup`); once ready(), act(master fd). (exit status, what the terminal showed)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.update(ENV)
        signal.signal(signal.SIGHUP, signal.SIG_IGN if nohup else signal.SIG_DFL)
        os.execv(argv[0], argv)
    shown, acted, status, deadline = b"", None, None, time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            if acted is None and ready():
                acted = act(fd)
                if acted == "closed":
                    break
            if select.select([fd], [], [], 0.02)[0]:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # EIO: the other side is closed
                    break
                if not chunk:
                    break
                shown += chunk
        assert acted is not None, "never ready:\n" + shown.decode(errors="replace")[-2000:]
        _, status = os.waitpid(pid, 0)
    finally:
        if status is None:  # still running: the test failed
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        if acted != "closed":
            os.close(fd)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


def _hang_up(fd):
    os.close(fd)
    return "closed"


def test_ctrl_c_typed_at_a_terminal_stops_the_run_and_exits_130(tmp_path, hang):
    """The terminal sends SIGINT to its whole foreground group (on Linux the warden and the
    harness both get one; the warden passes on only what a process sent it)."""
    argv = [str(ROOT / "tlsleak"), "run", "--out", str(tmp_path), *HUNG_SECOND]
    code, text = _on_a_terminal(argv, lambda fd: os.write(fd, b"\x03"), hang)  # Ctrl-C
    assert code == 130, text[-2000:]
    assert "INTERRUPTED: 1 of 2 planned cells finished" in text and "Traceback" not in text
    assert hang() == []


def test_a_closed_terminal_stops_the_run_and_keeps_the_finished_cells(tmp_path, hang):
    """A dropped SSH session: the terminal hangs up (SIGHUP to its session leader), and every
    later write to it fails. The run stops as on Ctrl-C and writes what finished."""
    argv = [str(ROOT / "tlsleak"), "run", "--out", str(tmp_path), *HUNG_SECOND]
    code, _ = _on_a_terminal(argv, _hang_up, hang)
    assert code == 130
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["interrupted"] and [c["id"] for c in doc["cells"]] == ["control_flat-system"]
    assert hang() == []


def test_under_nohup_a_closed_terminal_is_a_reader_gone_and_the_run_goes_on(tmp_path):
    """`nohup tlsleak run` with its output still on the terminal, which then closes: the run
    goes on to its end and writes everything; the output lost to the hangup is the reader
    going away (141, as for a closed pipe), not a failure of the run (3)."""
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    argv = [str(ROOT / "tlsleak"), "run", "--out", str(tmp_path / "out"), "-a", "system",
            "--exec", "--", HOSTILE, "gate", str(gate)]

    def close_then_release(fd):
        _hang_up(fd)
        release(gate)  # the cell ends only now, after the hangup
        return "closed"
    code, _ = _on_a_terminal(argv, close_then_release, lambda: matching(HOSTILE, str(gate)),
                             nohup=True)
    assert code == 141
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    assert not doc["interrupted"] and doc["cells"][0]["verdict"] == "ok"


def test_a_hangup_sent_to_the_job_stops_the_run_and_keeps_the_finished_cells(tmp_path, hang):
    """What a login shell does when its SSH session drops: SIGHUP to each job's process group.
    By default it killed the harness at once and lost every finished cell."""
    argv = [str(ROOT / "tlsleak"), "run", "--out", str(tmp_path), *HUNG_SECOND]
    with started(argv, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                 text=True) as proc:
        wait_until(hang, "the hanging cell starting")
        os.killpg(proc.pid, signal.SIGHUP)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err, err
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["interrupted"] and [c["id"] for c in doc["cells"]] == ["control_flat-system"]
    assert hang() == []


def test_under_nohup_a_hangup_changes_nothing(tmp_path):
    """The hangup comes while the cell is held running; the cell is let go only after it."""
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    argv = [str(ROOT / "tlsleak"), "run", "--out", str(tmp_path / "out"), "-a", "system",
            "--exec", "--", HOSTILE, "gate", str(gate)]
    with started(argv, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                 preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN)) as proc:
        wait_until(lambda: matching(HOSTILE, str(gate)), "the gated cell starting")
        proc.send_signal(signal.SIGHUP)
        release(gate)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    assert not doc["interrupted"] and doc["cells"][0]["verdict"] == "ok"


def test_ctrl_c_while_the_report_is_written_exits_130_with_the_results_kept(tmp_path):
    """The report's modules load lazily (matplotlib), and an interrupt raised inside an import
    is not safe: importlib swallowed one and the run exited 0 (a Ctrl-C at 1 s in the test
    above). The results are written and said before the report starts."""
    argv = [str(ROOT / "tlsleak"), "run", "--out", str(tmp_path), "-a", "system",
            "-s", "control_flat"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=ENV)
    for line in proc.stdout:
        if line.startswith("results: "):
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err and "failed" not in err, err
    doc = json.loads((tmp_path / "results.json").read_text())
    assert len(doc["cells"]) == 3 and not doc["interrupted"]


def test_a_second_interrupt_during_clean_up_keeps_the_finished_cells(tmp_path, hang):
    argv = [str(ROOT / "tlsleak"), "run", "--out", str(tmp_path), *HUNG_SECOND]
    with started(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                 env=ENV) as proc:
        wait_until(hang, "the hanging cell starting")
        for _ in range(3):
            proc.send_signal(signal.SIGINT)
            time.sleep(0.01)
        proc.communicate(timeout=120)
    assert proc.returncode == 130
    doc = json.loads((tmp_path / "results.json").read_text())
    assert [c["id"] for c in doc["cells"]] == ["control_flat-system"]
    assert hang() == []


def test_the_cell_environment_is_an_allow_list_and_what_is_given_is_recorded(tmp_path):
    env = dict(ENV, LD_AUDIT="/nonexistent/audit.so", MALLOC_CONF="junk:true",
               MIMALLOC_VERBOSE="1", TLSLEAK_FAULTY="drop", LD_LIBRARY_PATH="/nonexistent")
    argv = [str(ROOT / "tlsleak"), "run", "--out", str(tmp_path), "-a", "system",
            "--env", "MIMALLOC_SHOW_STATS=0", "--exec", "--", "sh", "-c", "env >&2"]
    subprocess.run(argv, env=env, capture_output=True, timeout=120)
    c = json.loads((tmp_path / "results.json").read_text())["cells"][0]
    seen = c["stderr_tail"]
    assert "PATH=" in seen and "MIMALLOC_SHOW_STATS=0" in seen
    for name in ("LD_AUDIT", "MALLOC_CONF", "MIMALLOC_VERBOSE", "TLSLEAK_FAULTY",
                 "LD_LIBRARY_PATH"):
        assert name + "=" not in seen
    # Recorded: what was given, plus only what the harness itself sets (its thread probe).
    assert c["env"]["MIMALLOC_SHOW_STATS"] == "0"
    assert set(c["env"]) - {"MIMALLOC_SHOW_STATS"} <= {"LD_PRELOAD", "TLSLEAK_PROBE_FILE"}


def test_a_library_swapped_in_by_ld_library_path_is_an_error_cell(tmp_path, listing):
    conf = next((c for c in listing["configs"] if c["mode"] == "dynamic" and c["available"]
                 and c["library"].startswith("/usr/")), None)
    if conf is None:
        pytest.skip("no packaged dynamic configuration here")
    lib = tmp_path / "lib"
    lib.mkdir()
    soname = subprocess.run(["objdump", "-p", conf["library"]], capture_output=True,
                            text=True).stdout.split("SONAME", 1)[1].split()[0]
    shutil.copy(conf["library"], lib / soname)
    r = run_cli("run", "--out", tmp_path / "out", "-a", conf["id"], "-s", "control_flat",
                "--no-controls", "--threads", "500", "--env", f"LD_LIBRARY_PATH={lib}")
    c = cell(r.doc, "control_flat", conf["label"])
    assert c["verdict"] == "error" and str(lib / soname) in c["reason"], c["reason"]
    assert c["env"] == {"LD_LIBRARY_PATH": str(lib)} and r.rc == 3


def test_a_results_file_that_cannot_be_written_keeps_the_table_and_the_other_file(tmp_path):
    (tmp_path / "results.json").mkdir()
    r = run_cli("run", "--out", tmp_path, "--overwrite", "-a", "system", "-s", "control_flat",
                "--no-controls", "--threads", "500")
    assert r.rc == 3 and "control_flat" in r.stdout and "ok" in r.stdout
    assert r.stderr.strip().splitlines()[-1].startswith("tlsleak: infrastructure failure: "
                                                        "could not write results.json")
    assert "run_id" in (tmp_path / "junit.xml").read_text()


def test_another_runs_folder_is_refused_and_the_pair_carries_one_run_id(tmp_path):
    first = run_cli("run", "--out", tmp_path, "-a", "system", "-s", "control_flat",
                    "--no-controls", "--threads", "500")
    assert first.rc == 0
    again = run_cli("run", "--out", tmp_path, "-a", "system", "-s", "control_flat",
                    "--no-controls", "--threads", "500")
    assert again.rc == 2 and "--overwrite" in again.stderr
    run_id = first.doc["run_id"]
    assert f'name="run_id" value="{run_id}"' in (tmp_path / "junit.xml").read_text()
    forced = run_cli("run", "--out", tmp_path, "--overwrite", "-a", "system", "-s",
                     "control_flat", "--no-controls", "--threads", "500")
    assert forced.rc == 0 and forced.doc["run_id"] != run_id
    assert f'value="{forced.doc["run_id"]}"' in (tmp_path / "junit.xml").read_text()


@pytest.mark.parametrize("value", ["inf", "1e309", ""])
def test_a_cap_that_is_no_number_is_a_usage_error(tmp_path, value):
    r = run_cli("run", "--out", tmp_path, "--max-rss", value, "-s", "control_flat")
    assert r.rc == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_a_missing_exec_program_is_refused_before_the_build(tmp_path):
    r = run_cli("run", "--out", tmp_path / "out", "--build-dir", tmp_path / "build",
                "--exec", "--", str(tmp_path / "no-such-program"))
    assert r.rc == 2 and "no-such-program" in r.stderr
    assert not (tmp_path / "build" / "CMakeCache.txt").exists()


def test_a_baseline_whose_cells_are_not_objects_is_refused_before_the_run(tmp_path):
    base = tmp_path / "base.json"
    base.write_text(json.dumps({"format": "tlsleak-baseline/2", "cells": {"x-system": 1}}))
    r = run_cli("run", "--out", tmp_path / "out", "--baseline", base, "-s", "control_flat")
    assert r.rc == 2 and "is not an object" in r.stderr
    assert not (tmp_path / "out").exists()


def test_a_corrupted_cmake_cache_heals(tmp_path):
    build = tmp_path / "build"
    args = ("-a", "system", "-s", "control_flat", "--no-controls", "--threads", "200",
            "--build-dir", build)
    assert run_cli("run", "--out", tmp_path / "1", *args).rc == 0
    with open(build / "CMakeCache.txt", "a") as fh:
        fh.write("\x00\x01 this is no cache entry\n")
    r = run_cli("run", "--out", tmp_path / "2", *args)
    assert r.rc == 0, r.stderr
