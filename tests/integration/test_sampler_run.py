"""tlsleak_sampler samples a cell's processes from outside the harness's interpreter
(docs/DESIGN.md "The sampler"): it keeps sampling while the interpreter is held (statistics,
imports, the garbage collector), never records a process that is gone as 0 bytes, and stops a
runaway anywhere in the command's tree at the cap."""
import subprocess
import threading
import time

import pytest

from clihelp import run_cli
from programs import build_programs
from tlsleak import configs, exec_probe, pipeline, policy, runner, subjects
from tlsleak.settings import make
from tlsleak.target import Target

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def built():
    return build_programs()


def records(built, pid, *options):
    out = subprocess.run([built.sampler, str(pid), "10000", *options], capture_output=True,
                         text=True, timeout=60).stdout
    return [line.split() for line in out.splitlines()]


def test_a_process_that_is_gone_gives_no_sample_and_ends_the_stream(built):
    # A zombie (exited, not yet reaped by its parent, this test) reads as 0 bytes in /proc.
    proc = subprocess.Popen(["sh", "-c", "sleep 0.3"])
    try:
        seen = records(built, proc.pid)
    finally:
        proc.wait()
    samples = [w for w in seen if w[0] == "P"]
    assert samples and all(int(w[2]) > 0 for w in samples), samples
    assert seen[-1][0] == "E" and ["G", str(proc.pid)] in [w[:2] for w in seen]


def hold_the_interpreter(stop, held):
    """Keep this interpreter busy in C code that never lets another thread run, over and
    over: the GIL is held for long stretches, as heavy statistics or a big import hold it."""
    big = list(range(3_000_000, 0, -1))
    while not stop.is_set():
        t = time.monotonic()
        sorted(big)  # one call, GIL held throughout
        held.append(time.monotonic() - t)


def test_a_fast_program_is_sampled_without_gaps_while_the_interpreter_is_held(built):
    # 10000 threads in well under a second, 2 KiB leaked each (the GLib and C++
    # programs): a gap in sampling there leaves too few points. Seen failing with sampling in
    # the harness's own thread (the psutil fallback): gaps as long as the interpreter is held.
    confs = [configs.Config.from_manifest(c) for c in built.manifest["configs"]]
    system = configs.select(configs.label_all(confs), ["system"])[0]
    settings = make(threads=10000)
    cell = pipeline.Cell(id="fast", scenario="churn_pthread", role="exec", config=system,
                         argv=[built.program("churn_pthread"), "10000", "2048"],
                         target=Target.from_manifest(built.manifest))
    env, env_set = runner.cell_env(system, cell.target)
    env, env_set, hook = exec_probe.attach(cell, settings, env, env_set)
    stop, held = threading.Event(), []
    hog = threading.Thread(target=hold_the_interpreter, args=(stop, held), daemon=True)
    hog.start()
    try:
        while not held:  # the program starts while the interpreter is already held
            time.sleep(0.01)
        outcome = runner.run_cell(cell, settings, env, hook)
    finally:
        stop.set()
        hog.join()
        hook.close()
    verdict = policy.decide(outcome, settings.criteria, role="exec")
    assert verdict.verdict == "leak", verdict.reason
    assert 1900 <= verdict.rate.slope <= 2600, verdict.reason
    longest_hold = max(held)
    assert outcome.max_gap_s < longest_hold / 2, (outcome.max_gap_s, held)
    assert all(s["rss"] > 0 for s in outcome.samples)
    (judged,) = [s for s in outcome.subjects if s.counted_by == subjects.COUNTED]
    assert judged.max_gap_s < longest_hold / 2 and len(judged.points) >= 10


def test_a_runaway_behind_a_shell_is_stopped_at_the_cap_of_the_whole_tree(built, tmp_path):
    program = built.program("churn_pthread")
    r = run_cli("run", "--out", tmp_path / "out", "-a", "system", "--max-rss", "64M",
                "--exec", "--", "sh", "-c", f"{program} 1000000 65536")
    cell = r.doc["cells"][0]
    assert cell["verdict"] == "leak" and cell.get("runaway"), cell["reason"]
    assert "exceeded the cap 64 MiB" in cell["reason"] and cell["exit"]["stop"] == "cap"
    assert r.rc == 1

