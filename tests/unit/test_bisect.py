"""The bisection (harness/tlsleak/bisect.py) over a list of commits whose verdicts are given, as
`git bisect` would have them judged: a commit that is neither `ok` nor `leak` (an `error`
commit whose allocator check is broken, an `inconclusive` one, one that does not build) is
untestable and taken for neither side; when untestable commits sit at the boundary the answer
is the candidate range, never a guess; the ends must be judged. The same history run for real
(builds, cells) is tests/integration/test_bisect_cli.py."""
import pytest

from tlsleak import UsageError, bisect
from tlsleak.settings import make

pytestmark = pytest.mark.unit


def judge_from(verdicts, rates=None):
    """judge_one for a history {commit: verdict}; rates {commit: B/thread}."""
    def judge_one(commit):
        v = verdicts[commit]
        step = bisect.Step(commit=commit, subject=commit, reason=f"{v} here")
        if v != bisect.NOT_BUILT:
            step.verdict, step.tries = v, [v]
        step.rate = (rates or {}).get(commit)
        return step
    return judge_one


def walk(history, **kw):
    """Bisect `history` [(commit, verdict)], the first GOOD and the last BAD."""
    commits = [c for c, _ in history]
    return bisect.walk(commits[0], commits[1:], judge_from(dict(history)), **kw)


def test_an_error_commit_after_the_leak_is_skipped_and_the_leak_commit_named():
    # The history: the broken commit counted as "not leaking" made the fix the answer.
    answer = walk([("start", "ok"), ("leak", "leak"), ("broken", "error"), ("fix", "leak"),
                   ("readme", "leak")])
    assert answer.first == "leak" and answer.candidates == ["leak"]
    assert [s.commit for s in answer.untestable] == ["broken"]


@pytest.mark.parametrize("untestable", ["error", "inconclusive", "crash", "timeout",
                                        bisect.NOT_BUILT])
def test_no_verdict_but_ok_and_leak_takes_a_side(untestable):
    # The untestable commit is the first one probed, on the ok side and then on the leak side.
    answer = walk([("start", "ok"), ("a", "ok"), ("b", untestable), ("c", "ok"),
                   ("leak", "leak"), ("d", "leak")])
    assert answer.first == "leak"
    answer = walk([("start", "ok"), ("leak", "leak"), ("b", untestable), ("a", "leak"),
                   ("c", "leak"), ("d", "leak")])
    assert answer.first == "leak"


def test_an_untestable_commit_at_the_boundary_gives_the_candidate_range():
    answer = walk([("start", "ok"), ("broken", "error"), ("leak", "leak"), ("readme", "leak")])
    assert answer.first is None
    assert answer.candidates == ["broken", "leak"] and answer.last_good == "start"
    assert [s.commit for s in answer.untestable] == ["broken"]


def test_find_fix_skips_untestable_commits_too():
    answer = walk([("start", "leak"), ("a", "leak"), ("nobuild", bisect.NOT_BUILT),
                   ("b", "leak"), ("fix", "ok"), ("readme", "ok")], good_leaks=True)
    assert answer.first == "fix"
    assert [s.commit for s in answer.untestable] == ["nobuild"]


def test_rate_bisection_skips_untestable_commits():
    history = [("start", "leak"), ("a", "leak"), ("x", "error"), ("b", "leak"), ("c", "leak"),
               ("d", "leak")]
    rates = {"start": 1000.0, "a": 1000.0, "x": None, "b": 1000.0, "c": 9000.0, "d": 9000.0}
    commits = [c for c, _ in history]
    answer = bisect.walk(commits[0], commits[1:], judge_from(dict(history), rates),
                         use_rate=True)
    assert answer.first == "c" and [s.commit for s in answer.untestable] == ["x"]


@pytest.mark.parametrize("history", [
    [("start", "error"), ("a", "ok"), ("leak", "leak")],
    [("start", "ok"), ("a", "ok"), ("end", "inconclusive")]])
def test_an_end_that_cannot_be_judged_is_refused(history):
    with pytest.raises(UsageError, match="cannot be judged"):
        walk(history)


def test_the_second_judgement_has_more_threads_budget_and_time_within_range():
    s = bisect.larger(make(threads=200, budget_s=30.0, timeout_s=120.0), 4)
    assert (s.workload.threads, s.criteria.budget_s, s.limits.timeout_s) == (800, 120.0, 480.0)
    s = bisect.larger(make(threads=9_000_000, budget_s=86400.0), 4)
    assert s.workload.threads == 10_000_000 and s.criteria.budget_s == 86400
