"""`tlsleak run --exec` on unmodified programs (tests/programs/: C and C++, pthreads, std::thread
and C11 threads, joined and detached, leaking a block per thread at thread exit or freeing it):
the probe counts their threads, so a leak is found in B/thread under the system allocator and
under every override configuration; a static program, which no preload reaches, is judged in
time (B/s) and never passes; an endless program gets a verdict within its budget."""
import os

import pytest

from clihelp import configurations, run_cli
from programs import build_programs

pytestmark = pytest.mark.integration

# Dynamic programs, with the argument that picks joined or detached threads.
PROGRAMS = [("churn_pthread", "join"), ("churn_pthread", "detach"),
            ("churn_std_thread", "join"), ("churn_std_thread", "detach"), ("churn_c11", None)]
# Every program leaks 2 KiB and has its twin; the other sizes on one C and one C++ program.
CASES = [(p, m, leak) for p, m in PROGRAMS for leak in (0, 2048)] + [
    ("churn_pthread", "join", 512), ("churn_std_thread", "detach", 512),
    ("churn_pthread", "detach", 65536), ("churn_std_thread", "join", 65536)]


@pytest.fixture(scope="module")
def built():
    return build_programs()


def overrides(*names):
    """The override configurations `tlsleak list --json` registers (of `names`, or all)."""
    return [c for c in configurations(*names) if c["mode"] == "override"]


def exec_run(tmp_path, argv, configs, *options):
    available = [c["label"] for c in configs if c["available"]]
    if not available:
        pytest.skip("no available configuration: "
                    + "; ".join(f"{c['label']}: {c['reason']}" for c in configs))
    r = run_cli("run", "--out", tmp_path, *[a for c in available for a in ("-a", c)], *options,
                "--exec", "--", *argv)
    assert r.rc in (0, 1, 3, 4), r.stdout + r.stderr  # 4: a cell inconclusive, said below
    return r, {c["config"]: c for c in r.doc["cells"]}


def assert_judged(r, cells, leak):
    """A leak is `leak` in B/thread, about the size leaked (plus what the allocator spends on a
    block of it: tbbmalloc about 1.5x), exit 1; a twin `ok`, exit 0."""
    for label, c in cells.items():
        assert c["probe"]["claimed"], (label, c["reason"])
        assert c["rate"]["unit"] == "B/thread", (label, c["reason"])
        if leak:
            assert c["verdict"] == "leak", (label, c["reason"])
            assert 0.75 * leak <= c["rate"]["value"] <= 1.5 * leak + 2048, (label, c["reason"])
        else:
            assert c["verdict"] == "ok", (label, c["reason"])
    assert r.rc == (1 if leak else 0), r.stdout


@pytest.mark.parametrize("program, mode, leak", CASES,
                         ids=[f"{p}-{m or 'c11'}-{leak}" for p, m, leak in CASES])
def test_a_leak_per_thread_is_found_under_system_and_mimalloc_override(built, tmp_path, program,
                                                                      mode, leak):
    # The program would churn 100000 threads; the harness stops it at --threads (the probe's
    # count) or as soon as sequential judging settles: 64 KiB blocks stop at 2000 threads.
    threads = 2000 if leak > 4096 else 10000
    argv = [built.program(program), "100000", str(leak), *([mode] if mode else [])]
    r, cells = exec_run(tmp_path, argv, configurations("system") + overrides("mimalloc"),
                        "--threads", threads)
    assert_judged(r, cells, leak)
    for c in cells.values():  # the probe, after the override's allocator if any
        preload = c["env"]["LD_PRELOAD"].split()
        override = c["allocator"]["mode"] == "override"
        assert len(preload) == 1 + override and preload[-1].endswith("libtlsleak_probe.so")
        assert c["probe"]["preload_mapped"] is (True if override else None)


@pytest.mark.parametrize("leak", [0, 2048])
def test_every_other_override_configuration_finds_the_leak_too(built, tmp_path, leak):
    others = [c for c in overrides() if c["name"] != "mimalloc"]
    argv = [built.program("churn_pthread"), "100000", str(leak)]
    r, cells = exec_run(tmp_path, argv, others, "--threads", "10000", "-j", "2")
    assert len(cells) == len([c for c in others if c["available"]])
    assert_judged(r, cells, leak)
    for c in cells.values():  # the allocator first, the probe after it
        preload = c["env"]["LD_PRELOAD"].split()
        assert len(preload) == 2 and preload[1].endswith("libtlsleak_probe.so"), preload
        assert c["probe"]["preload_mapped"] is True


def test_threads_stops_the_program_after_that_many_counted_threads(built, tmp_path):
    argv = [built.program("churn_pthread"), "1000000", "0"]
    r, cells = exec_run(tmp_path, argv, configurations("system"), "--threads", "3000",
                        "--no-sequential")
    c = cells["system"]
    assert r.rc == 0 and c["verdict"] == "ok", c["reason"]
    # At least 3000, and far fewer than the program's million: it ran on only until the slope
    # had its points (exec_probe.MIN_POINTS samples, 10 ms apart).
    assert 3000 <= c["probe"]["counts"]["finished"] < 100000
    assert "stopped: " in c["reason"] and "(--threads 3000)" in c["reason"]


STATIC = [("churn_pthread", "join", 2048), ("churn_std_thread", "detach", 512)]


@pytest.mark.parametrize("leak_of", [0, 1], ids=["twin", "leak"])
@pytest.mark.parametrize("program, mode, leak", STATIC, ids=[p for p, _, _ in STATIC])
def test_a_static_program_is_judged_in_time_and_never_passes(built, tmp_path, program, mode,
                                                               leak, leak_of):
    path = built.program(program, static=True)
    if not os.path.exists(path):
        pytest.skip("no static C/C++ libraries here (TLSLEAK_CAN_LINK_STATIC is off)")
    leak *= leak_of
    r, cells = exec_run(tmp_path, [path, "100000000", str(leak), mode],
                        configurations("system") + overrides("mimalloc"), "--duration", "3")
    c = cells["system"]
    assert not c["probe"]["claimed"]  # no preload reaches a static program
    assert c["rate"]["unit"] == "B/s" and "judged in time" in c["reason"], c["reason"]
    # Its threads were seen to end (thread ids vanishing) but not counted: growth in time is a
    # leak; flat in time cannot rule out a leak per thread, so it is inconclusive, not ok.
    assert c["verdict"] == ("leak" if leak else "inconclusive"), c["reason"]
    assert "seen to end but none counted" in c["reason"]
    assert c["subjects"][0]["counted_by"] == "tids" and c["subjects"][0]["threads_finished"] > 0
    assert c["exit"]["stop"] == "duration"  # a normal end at --duration, judged
    # An override cannot serve a static program's malloc: that is an error, never a pass.
    mi = [x for x in cells.values() if x["allocator"]["mode"] == "override"]
    assert all(x["verdict"] == "error" and "never reached" in x["reason"] for x in mi)
    assert r.rc == 3 if mi else r.rc == (1 if leak else 4)


def test_the_endless_seed_program_of_mimalloc_944_gets_a_verdict_within_its_budget(built,
                                                                                     tmp_path):
    # https://github.com/microsoft/mimalloc/issues/944: a std::thread every 100 ms, forever,
    # with a thread_local that mallocs 1 KiB and frees it. Not a timeout: judged at the budget.
    r, cells = exec_run(tmp_path, [built.program("seed_944")],
                        configurations("system") + overrides("mimalloc"), "--budget", "10")
    for label, c in cells.items():
        assert c["verdict"] == "ok", (label, c["reason"])
        assert c["rate"]["unit"] == "B/thread" and c["probe"]["counts"]["finished"] >= 50
        assert "time budget 10 s reached" in c["reason"]
    assert r.rc == 0


def test_a_leak_that_starts_late_is_a_leak(built, tmp_path):
    # The probe-judged program whose leak starts at 60-70 % of its threads settled ok
    # (2 of 9 runs): an --exec cell has no plan, so it is not settled early; and a leak that
    # started late and goes on is a leak, at its own pace. 2 KiB per thread from 65 % of
    # 10000 threads on (outside tlsleak, wait4's maxRSS at 10000 and 30000 threads: about
    # 450 B/thread over the whole run; 2048 since the leak started).
    r, cells = exec_run(tmp_path, [built.program("late_leak"), "10000", "2048", "65"],
                        configurations("system") + overrides("mimalloc"))
    for label, c in cells.items():
        assert c["verdict"] == "leak", (label, c["reason"])
        assert c["subjects"][0]["threads_finished"] >= 9000  # it ran on, past the late start
        # Its rate is the leak's own (2048, the late-leak rule) or the judged window's whole
        # slope once the warm-up is dropped (seen 1013 and 1410): between the run's average
        # and the leak's own pace, never a flat one.
        assert 512 <= c["rate"]["value"] <= 2600, (label, c["reason"])
    assert r.rc == 1, r.stdout


def test_a_cache_that_fills_then_shrinks_is_no_leak(built, tmp_path):
    # As mimalloc's own test/test-stress.c: 8 MiB over the first 4000 threads, two thirds of
    # it freed, then flat. Seen failing when an --exec leak could settle after 34 samples.
    r, cells = exec_run(tmp_path, [built.program("fill_shrink"), "20000", "4000", "2048"],
                        configurations("system") + overrides("mimalloc"))
    for label, c in cells.items():
        assert c["verdict"] == "ok", (label, c["reason"])
    assert r.rc == 0, r.stdout
