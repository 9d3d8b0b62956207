"""libtlsleak_probe.so counts the threads of unmodified programs (docs/DESIGN.md "The probe"):
every thread started and finished, joined or detached, pthreads, std::thread or C11 threads,
under the system allocator and under preloaded override allocators, in either preload order;
each process of a command in a slot of its own. tlsleak_sampler ("The sampler") pairs each
process's memory with those counts from outside."""
import os
import subprocess
import sys

import pytest

from programs import OVERRIDE_NAMES, build_programs
from tlsleak import probe, stats

pytestmark = pytest.mark.integration

THREADS = 200


@pytest.fixture(scope="module")
def built():
    return build_programs()


class Ran:
    def __init__(self, proc, out, err, file):
        self.pid, self.returncode, self.stdout, self.stderr = proc.pid, proc.returncode, out, err
        self.file = file  # every slot of the probe's file
        self.counts = file.of(proc.pid) if file is not None else None  # the first process's


def run_counted(built, tmp_path, argv, preload="", probe_first=False, env=None):
    """Run argv with the probe preloaded, the allocator's library first unless probe_first;
    returns what it printed and the counts in its probe file after it exited."""
    path = probe.create(tmp_path / "probe")
    extra = probe.environment(path, built.probe, preload)
    if probe_first and preload:
        extra["LD_PRELOAD"] = f"{built.probe} {preload}"
    with subprocess.Popen(argv, env={**os.environ, **extra, **(env or {})}, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL) as proc:
        out, err = proc.communicate(timeout=120)
    return Ran(proc, out, err, probe.read_file(path))


PROGRAMS = [
    ("churn_pthread", "join"), ("churn_pthread", "detach"),
    ("churn_std_thread", "join"), ("churn_std_thread", "detach"),
    ("churn_c11", None),
]


@pytest.mark.parametrize("allocator", ["system", *OVERRIDE_NAMES])
@pytest.mark.parametrize("leak", [0, 512, 2048, 65536])
@pytest.mark.parametrize("program, mode", PROGRAMS,
                         ids=[f"{p}-{m}" if m else p for p, m in PROGRAMS])
def test_every_thread_is_counted_started_and_finished(built, tmp_path, program, mode, leak,
                                                      allocator):
    preload = "" if allocator == "system" else built.override(allocator)
    argv = [built.program(program), str(THREADS), str(leak), *([mode] if mode else [])]
    ran = run_counted(built, tmp_path, argv, preload)
    assert ran.returncode == 0, ran.stderr
    counts = ran.counts
    assert counts is not None and counts.pid == ran.pid
    assert (counts.started, counts.finished, counts.returned) == (THREADS, THREADS, THREADS)
    assert counts.detached == (THREADS if mode == "detach" else 0)
    assert counts.teardown, "glibc: finished counts at the last TLS destructor round"
    assert counts.unwrapped == 0 and len(ran.file.slots) == 1 and ran.file.overflow == 0


@pytest.mark.parametrize("allocator", ["system", "mimalloc"])
def test_the_seed_program_of_mimalloc_944_is_counted(built, tmp_path, allocator):
    # https://github.com/microsoft/mimalloc/issues/944: std::thread create/join loop with a
    # thread_local that mallocs 1 KiB; here 30 threads of 1 ms instead of forever at 100 ms.
    preload = "" if allocator == "system" else built.override(allocator)
    ran = run_counted(built, tmp_path, [built.program("seed_944"), "30", "1"], preload)
    assert ran.returncode == 0, ran.stderr
    assert (ran.counts.pid, ran.counts.started, ran.counts.finished) == (ran.pid, 30, 30)


@pytest.mark.parametrize("allocator", OVERRIDE_NAMES)
@pytest.mark.parametrize("probe_first", [False, True], ids=["allocator-first", "probe-first"])
def test_the_preloaded_allocator_still_serves_malloc_beside_the_probe(built, tmp_path,
                                                                        allocator, probe_first):
    # The dynamic linker's own account of where the program's malloc binds (LD_DEBUG=bindings).
    library = built.override(allocator)
    ran = run_counted(built, tmp_path, [built.program("churn_pthread"), "20", "0"], library,
                      probe_first, env={"LD_DEBUG": "bindings"})
    assert ran.returncode == 0
    program = built.program("churn_pthread")
    binds = [line for line in ran.stderr.splitlines()
             if f"binding file {program} " in line and "`malloc'" in line]
    assert binds and all(os.path.basename(library) in line for line in binds), binds
    assert ran.counts.started == ran.counts.finished == 20


def test_the_probe_imports_no_allocation_function(built):
    # "no malloc after init": the library does not even reference an allocator's entry points.
    out = subprocess.run(["nm", "-D", "--undefined-only", built.probe], capture_output=True,
                         text=True, check=True).stdout
    imported = {line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip()}
    assert "pthread_setspecific" in imported  # the listing is real
    assert not imported & {"malloc", "calloc", "realloc", "free", "posix_memalign",
                           "aligned_alloc", "memalign", "valloc", "strdup", "_Znwm"}


def test_a_static_program_leaves_the_file_unclaimed(built, tmp_path):
    # No preload reaches a static binary: no slot, and the harness must judge it otherwise.
    program = built.program("churn_pthread", static=True)
    if not os.path.exists(program):
        pytest.skip("no static C/C++ libraries here (TLSLEAK_CAN_LINK_STATIC is off)")
    ran = run_counted(built, tmp_path, [program, "20", "0"])
    assert ran.returncode == 0, ran.stderr
    assert ran.file is not None and ran.file.slots == () and ran.file.claimed == 0


CHILDREN = """
import os, subprocess, sys, threading, time
def churn(n):
    for _ in range(n):
        t = threading.Thread(target=lambda: None); t.start(); t.join()
churn(3)
pid = os.fork()
if pid == 0:
    churn(5)      # a forked child: a process of its own, in a slot of its own
    time.sleep(0.5)  # join() returns before the thread's own teardown is over
    os._exit(0)
os.waitpid(pid, 0)
print(pid, flush=True)
subprocess.run([sys.executable, "-c", "pass"], check=True)   # no thread: no slot
os.execv(sys.argv[1], sys.argv[1:])                          # exec: the same process's slot
"""


def test_each_process_of_a_command_counts_in_its_own_slot(built, tmp_path):
    ran = run_counted(built, tmp_path, [sys.executable, "-c", CHILDREN,
                                        built.program("churn_pthread"), "4", "0"])
    assert ran.returncode == 0, ran.stderr
    child = int(ran.stdout.split()[0])
    assert [c.pid for c in ran.file.slots] == [ran.pid, child]
    first, forked = ran.file.slots
    assert (first.started, first.finished, first.images) == (3 + 4, 3 + 4, 2)
    assert (forked.started, forked.finished, forked.images, forked.parent) == (5, 5, 1, ran.pid)
    assert ran.file.overflow == 0


def test_finished_counts_only_after_every_tls_destructor_of_the_thread(built, tmp_path):
    # The moment that matches `done` of the built-in scenarios: after C++ thread_local
    # destructors and after the program's own pthread key destructors.
    path = probe.create(tmp_path / "probe")
    env = {**os.environ, **probe.environment(path, built.probe)}
    with subprocess.Popen([built.program("slow_teardown")], env=env, text=True,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE) as proc:
        seen = []
        for stop in ("thread_local", "key"):
            assert proc.stdout.readline().strip() == stop
            c = probe.read_file(path).of(proc.pid)
            seen.append((c.started, c.returned, c.finished))
            proc.stdin.write("g")
            proc.stdin.flush()
        assert proc.stdout.readline().strip() == "joined"
        assert proc.wait(timeout=30) == 0
    assert seen == [(1, 1, 0), (1, 1, 0)]
    after = probe.read_file(path).of(proc.pid)
    assert (after.started, after.returned, after.finished) == (1, 1, 1)


def sample_paired(built, tmp_path, argv, preload=""):
    """What the harness does with the probe: tlsleak_sampler samples the process's RSS from
    outside and pairs each sample with the probe's `finished`, read just before and just after
    it (x = their mean). Returns [(finished, rss)] while the program ran."""
    path = probe.create(tmp_path / "probe")
    env = {**os.environ, **probe.environment(path, built.probe, preload)}
    with subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                          stdin=subprocess.DEVNULL) as proc:
        records = subprocess.run([built.sampler, str(proc.pid), "2000", "--probe", str(path)],
                                 capture_output=True, text=True, timeout=120).stdout
        assert proc.wait(timeout=120) == 0
    pairs = []
    for line in records.splitlines():
        words = line.split()
        if words[0] == "P" and int(words[1]) == proc.pid and int(words[6]) >= 0:
            pairs.append(((int(words[7]) + int(words[8])) / 2, int(words[2])))
    return pairs


def slope(pairs, warmup=0.2):
    # The harness's own trend (Theil-Sen): least squares let one late jump of a thread cache
    # (tcmalloc) pass for a few hundred B/thread in the twin.
    xs = [x for x, _ in pairs]
    kept = [(x, y) for x, y in pairs if x >= warmup * max(xs)]
    return stats.theil_sen([x for x, _ in kept], [y for _, y in kept]).slope


@pytest.mark.parametrize("allocator", ["system", *OVERRIDE_NAMES])
@pytest.mark.parametrize("leak", [0, 2048])
def test_rss_against_finished_threads_gives_the_leak_per_thread(built, tmp_path, allocator,
                                                                leak):
    # The purpose of the counts: an unmodified program's growth in bytes per thread, the leak
    # plus what the allocator spends on a block of that size (tbbmalloc: about 1.5x), and about
    # 0 for the twin. 3000 threads: mimalloc 2.0 slows down as leaked blocks pile up in
    # abandoned heaps (about 1 ms per thread after a few thousand, with or without the probe).
    preload = "" if allocator == "system" else built.override(allocator)
    pairs = sample_paired(built, tmp_path, [built.program("churn_pthread"), "3000", str(leak)],
                          preload)
    assert len(pairs) >= 20, f"only {len(pairs)} samples"
    b_per_thread = slope(pairs)
    if leak:
        assert 0.75 * leak <= b_per_thread <= 2 * leak, b_per_thread
    else:
        assert abs(b_per_thread) < 128, b_per_thread


def test_the_program_s_destructors_run_as_often_as_without_the_probe(built, tmp_path):
    # The probe re-arms its own key for more destructor rounds; the program's keys must see
    # exactly the rounds they would see alone.
    alone = subprocess.run([built.program("dtor_rounds")], capture_output=True, text=True,
                           check=True).stdout
    ran = run_counted(built, tmp_path, [built.program("dtor_rounds")])
    assert ran.returncode == 0 and ran.counts.finished == 1
    assert ran.stdout == alone
    assert alone.startswith("always=4 once=2 never=1")  # glibc: 4 rounds
