"""The verdict policy, rung by rung, on hand-made Outcomes: no process runs here."""
import pytest

from tlsleak import policy
from tlsleak.settings import Criteria

pytestmark = pytest.mark.unit

ALLOC = {"name": "mimalloc", "owns": 1, "malloc_from": "/usr/lib/libmimalloc.so"}
END = {"done": 10000, "status": "ok"}


def cps(per_thread, n=41, step=250):
    """Checkpoints of a program whose RSS grows per_thread bytes per thread."""
    return tuple({"done": i * step, "t_ns": i, "rss": (8 << 20) + per_thread * i * step,
                  "t_recv": i * 0.01} for i in range(n))


def samples(bytes_per_s, n=50):
    return tuple({"t": i * 0.1, "rss": (4 << 20) + int(bytes_per_s * i * 0.1), "threads": 2}
                 for i in range(n))


def decide(role="scenario", expect="mimalloc", criteria=Criteria(sequential=False), **kw):
    fields = dict(returncode=0, checkpoints=cps(0), alloc=ALLOC, end=END)
    fields.update(kw)
    return policy.decide(policy.Outcome(**fields), criteria, expect, role)


def test_a_flat_program_is_ok_and_a_growing_one_a_leak_with_its_unit():
    ok = decide()
    assert (ok.verdict, ok.signal) == ("ok", "rss")
    leak = decide(checkpoints=cps(1024))
    assert leak.verdict == "leak" and leak.rate.unit == "B/thread"
    assert leak.rate.slope == pytest.approx(1024)


def test_timeout_comes_first_and_has_no_rate():
    v = decide(stop="timeout", detail="no exit within 5 s", returncode=-9,
               checkpoints=cps(1024))
    assert v.verdict == "timeout" and v.rate is None and v.signal is None
    assert v.reason == "no exit within 5 s; process group killed after 10000 threads"
    assert "rss" in v.signals  # what was measured is still shown


def test_a_broken_cap_is_a_runaway_leak_with_the_rate_so_far():
    v = decide(stop="cap", detail="RSS 900 MiB exceeded the cap 512 MiB", returncode=-9,
               checkpoints=cps(4096))
    assert (v.verdict, v.runaway, v.signal) == ("leak", True, "rss")
    assert v.reason.startswith("runaway: RSS 900 MiB exceeded the cap 512 MiB")


@pytest.mark.parametrize("code, verdict, text", [
    (-11, "crash", "killed by SIGSEGV (last checkpoint: 10000 threads)"),
    (3, "error", "exited with code 3 (last checkpoint: 10000 threads)"),
])
def test_a_death_or_failing_exit_is_said_with_the_last_checkpoint(code, verdict, text):
    v = decide(returncode=code, end=None)
    assert (v.verdict, v.reason, v.rate) == (verdict, text, None)


def test_the_harness_killing_a_settled_cell_is_not_a_crash():
    points = cps(1024)
    v = decide(criteria=Criteria(), stop="settled", settled_at=12, returncode=-9, end=None,
               checkpoints=points)
    assert v.verdict == "leak" and v.stopped_early
    # The threads when it settled (the 12th checkpoint), not the last checkpoint before the kill.
    assert v.reason.endswith("(settled after %d threads)" % points[11]["done"])
    assert points[11]["done"] < points[-1]["done"]


def test_a_spent_budget_judges_what_arrived():
    v = decide(criteria=Criteria(budget_s=7), stop="budget", returncode=-9, end=None)
    assert v.verdict == "ok" and v.reason.endswith("(time budget 7 s reached after 10000 threads)")


def test_another_checkpoint_version_is_an_error():
    v = decide(version_mismatch="2")
    assert v.verdict == "error" and "another checkpoint format version" in v.reason


@pytest.mark.parametrize("alloc, text", [
    (None, "no 'alloc' line"),
    ({"name": "system", "owns": 1, "malloc_from": "libc.so.6"},
     "configured mimalloc, but malloc is served by system (from libc.so.6)"),
    ({"name": "mimalloc", "owns": 0}, "does not own a fresh malloc block"),
])
def test_a_wrong_allocator_is_an_error_even_when_memory_is_flat(alloc, text):
    v = decide(alloc=alloc)
    assert v.verdict == "error" and text in v.reason


def test_no_end_line_or_no_checkpoints_is_an_error():
    assert decide(end=None).reason == "the program exited without its 'end' line"
    assert decide(checkpoints=()).reason == "the program printed no checkpoints"


def test_a_program_without_checkpoints_gets_its_growth_in_bytes_per_second():
    v = decide(role="exec", expect="", checkpoints=(), end=None, alloc=None,
               samples=samples(1 << 20))
    assert v.verdict == "inconclusive" and v.rate.unit == "B/s"
    assert v.rate.slope == pytest.approx(1 << 20, rel=0.01)
    assert decide(role="exec", expect="", checkpoints=(), end=None, samples=()).rate is None


def test_a_program_that_could_not_start_is_an_error_with_why():
    v = policy.decide(policy.Outcome(stop="not_started", detail="cannot start x: No such file"),
                      Criteria())
    assert (v.verdict, v.reason) == ("error", "cannot start x: No such file")
