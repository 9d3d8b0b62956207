"""The processes of an --exec command and how they are judged (docs/DESIGN.md "The sampler"):
every process that finishes threads on its own, the worst deciding; a process that could not
be counted or measured never lets the cell pass; the wrapper is recorded, not judged."""
import pytest

from tlsleak import policy, probe, sampler, stats, subjects
from tlsleak.settings import Criteria
from tlsleak.subjects import COUNTED, SEEN, Subject

pytestmark = pytest.mark.unit

CRITERIA = Criteria(sequential=False)


def points(per_thread, n=41, step=250, base=8 << 20):
    return tuple({"done": i * step, "rss": base + per_thread * i * step, "vsize": 1 << 30,
                  "os_threads": 2, "t_recv": i * 0.01} for i in range(n))


def in_time(bytes_per_s, n=50):
    return tuple({"t": i * 0.1, "rss": (4 << 20) + int(bytes_per_s * i * 0.1), "threads": 2}
                 for i in range(n))


def per_thread(cps):
    return stats.judge_signals(cps, **CRITERIA.judge_kw())


def judge(found):
    return subjects.judge_subjects(found, per_thread, CRITERIA)


def proc(pid, start=7, **kw):
    p = sampler.Proc(pid=pid, start=start, command=f"prog{pid}")
    for k, v in kw.items():
        setattr(p, k, v)
    return p


def test_collect_tells_counted_seen_and_recorded_processes_apart():
    shell = proc(1)
    counted = proc(2, slot=0, finished=500, points=list(points(0)))
    static = proc(3, ended=40)
    gone = probe.Counts(pid=4, start=9, flags=1, started=80, finished=80, returned=80,
                        detached=0, t_ns=0, unwrapped=0, images=1, parent=1)
    final = probe.File(claimed=2, overflow=0, slots=(
        probe.Counts(pid=2, start=7, flags=1, started=600, finished=600, returned=600,
                     detached=0, t_ns=0, unwrapped=0, images=1, parent=1), gone))
    found = subjects.collect([shell, counted, static], final)
    assert [(s.pid, s.counted_by, s.threads) for s in found] == [
        (1, "", 0), (2, COUNTED, 600), (3, SEEN, 40), (4, COUNTED, 80)]
    assert found[3].command == "?" and found[3].points == ()  # finished threads, never sampled


def test_the_worst_process_decides():
    found = (Subject(pid=1, command="sh"),
             Subject(pid=2, command="tidy", counted_by=COUNTED, threads=10000,
                     points=points(0)),
             Subject(pid=3, command="leaky", counted_by=COUNTED, threads=10000,
                     points=points(2048)))
    tree = judge(found)
    assert tree.verdict == "leak" and tree.decider.subject.pid == 3
    assert tree.reason.startswith("process 3 (leaky): rss grows")
    assert "the worst of 2 processes that finished threads" in tree.reason
    assert tree.rate.slope == pytest.approx(2048)
    assert [v.verdict for v in tree.judged] == ["ok", "leak"]


def test_a_process_whose_threads_were_not_counted_is_never_ok():
    flat = Subject(pid=2, command="static", counted_by=SEEN, threads=30, samples=in_time(0))
    v = judge((flat,))
    assert v.verdict == "inconclusive" and "seen to end but none counted" in v.reason
    grows = Subject(pid=2, command="static", counted_by=SEEN, threads=30,
                    samples=in_time(1 << 20))
    v = judge((grows,))
    assert v.verdict == "leak" and v.rate.unit == "B/s"


def test_a_process_that_finished_threads_but_was_not_measured_keeps_the_cell_from_passing():
    found = (Subject(pid=2, command="tidy", counted_by=COUNTED, threads=10000,
                     points=points(0)),
             Subject(pid=3, command="?", counted_by=COUNTED, threads=80))
    tree = judge(found)
    assert tree.verdict == "inconclusive" and "not sampled" in tree.reason


def test_a_wrapper_alone_is_no_subject():
    tree = judge((Subject(pid=1, command="sh -c prog", samples=in_time(0)),))
    assert tree.verdict == "inconclusive" and tree.decider is None


def test_a_script_that_starts_thousands_of_processes_keeps_a_bounded_record():
    found = tuple(Subject(pid=i, command="sed") for i in range(1, 5000)) + (
        Subject(pid=9999, command="prog", counted_by=COUNTED, threads=10000, points=points(0)),)
    outcome = policy.Outcome(subjects=found, samples=in_time(0))
    records = subjects.exec_judgement(outcome, CRITERIA, per_thread)[5]
    assert records[0]["pid"] == 9999 and len(records) == 1 + subjects.RECORDED


def test_memory_a_process_gains_after_its_last_thread_is_none_of_its_threads():
    # Seen in the corpus (a C++ thread_local program and Python's threading.local, started
    # through a wrapper, judged over all 10000 threads): flat, then sampled again and again at
    # its final count while it exits, its RSS 150 KiB higher; kept as its latest point, that
    # read as "the newest points rise above the trend: growth may be starting".
    proc = sampler.Proc(pid=11, ppid=10, start=1, command="prog")
    for i in range(41):
        proc.add(i * 0.01, (8 << 20), 0, 2, 0, 0, i * 250, i * 250, i * 250 + 1)
    for k in range(5):  # exiting: the same count, memory rising
        proc.add(0.5 + k * 0.01, (8 << 20) + (k + 1) * (30 << 10), 0, 1, 0, 0, 10000, 10000,
                 10000)
    v = judge([subjects.collect([proc])[0]])
    assert v.verdict == "ok", v.reason
