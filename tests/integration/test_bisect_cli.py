"""`tlsleak bisect` and `bisect-step` for real (builds, cells) on scripted histories of the
`faulty` allocator (faultyrepo.py), untidy as real histories are: a commit whose programs are
all `error` (its ownership check broken) is judged twice and then skipped, never taken for either
side, and listed as untestable; one that sits right where the leak starts leaves the answer
open and the candidates are named; a commit that does not build is skipped; --find-fix names
the fix; bisect-step answers `git bisect run` with 0, 1 and 125. (`faulty_repo`, the
8-commit history of faultyrepo.py, is conftest.py's.) The search logic alone, on given
verdicts: tests/unit/test_bisect.py."""
import pytest

from clihelp import run_cli
from faultyrepo import make_history

pytestmark = pytest.mark.integration

SCENARIO = "last_round_alloc"
FAST = ["--threads", "200"]
# The history: bisect named the owns fix as the commit that brought the leak, exit 0.
BROKEN_AFTER_LEAK = [("start", []), ("leak", ["leak"]), ("broken owns", ["break_owns"]),
                     ("owns fix", ["fix_owns"]), ("readme", ["readme"])]
# The broken commit sits right before the leak: either may have brought it.
BROKEN_AT_THE_LEAK = [("start", []), ("broken owns", ["break_owns"]),
                      ("leak, owns fix", ["leak", "fix_owns"]), ("readme", ["readme"])]


def _bisect(repo, *args):
    return run_cli("bisect", "--repo", repo, "-s", SCENARIO, "-a", "faulty:static", *FAST, *args)


def _step_lines(stdout):
    return {line.split()[0]: line for line in stdout.splitlines() if line[:12].isalnum()}


def _untestable(stdout):
    """The commits listed under 'untestable' (12 digits each)."""
    listed = stdout.split("untestable, skipped", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in listed.splitlines()[1:]]


@pytest.fixture(scope="module")
def broken_after_leak(tmp_path_factory):
    repo = tmp_path_factory.mktemp("bisect") / "faulty"
    return repo, make_history(repo, BROKEN_AFTER_LEAK)


def test_bisect_names_the_leak_commit_and_lists_the_error_commit_untestable(broken_after_leak):
    repo, commits = broken_after_leak
    r = _bisect(repo, "--good", "v1", "--bad", "main")
    assert r.rc == 0, r.stdout + r.stderr
    assert f"first commit that introduced the leak: {commits['leak']} leak" in r.stdout
    broken = commits["broken owns"][:12]
    assert _untestable(r.stdout) == [broken]
    # judged a second time, with more threads, before it was called untestable
    line = _step_lines(r.stdout)[broken]
    assert "error, then error (" in line and "untestable)" in line


def _steps_answer(repo, answers):
    """bisect-step on each ref gives the code `git bisect run` wants; the last run's output."""
    for ref, code in answers:
        r = run_cli("bisect-step", "--repo", repo, "--ref", ref, "-s", SCENARIO,
                    "-a", "faulty:static", *FAST)
        assert r.rc == code, (ref, r.stdout, r.stderr)
    return r.stdout


def test_bisect_step_skips_the_error_commit(broken_after_leak):
    repo, commits = broken_after_leak
    out = _steps_answer(repo, [("v1", 0), (commits["leak"], 1), (commits["broken owns"], 125)])
    assert "untestable: allocator check failed" in out


def test_an_untestable_commit_where_the_leak_starts_leaves_the_candidates(tmp_path):
    commits = make_history(tmp_path / "faulty", BROKEN_AT_THE_LEAK)
    r = _bisect(tmp_path / "faulty", "--good", "v1", "--bad", "main")
    assert r.rc == 4, r.stdout + r.stderr  # no answer, and no failure: inconclusive
    assert "first commit" not in r.stdout
    assert "cannot tell which of 2 commits introduced the leak" in r.stdout
    start, broken, leak = (commits[k][:12] for k in ("start", "broken owns", "leak, owns fix"))
    assert f"between {start} and {leak}" in r.stdout
    candidates = r.stdout.split("candidates:", 1)[1].split()
    assert candidates == [broken, "broken", "owns", leak, "leak,", "owns", "fix"]
    assert _untestable(r.stdout) == [broken]


def test_bisect_names_exactly_the_commit_that_introduced_the_leak(faulty_repo):
    repo, commits = faulty_repo
    r = _bisect(repo, "--good", "v1.0.0", "--bad", commits["buildfix"])
    assert r.rc == 0, r.stderr
    assert f"first commit that introduced the leak: {commits['leak']} leak" in r.stdout


def test_find_fix_names_the_fix_and_skips_the_commit_that_does_not_build(faulty_repo):
    repo, commits = faulty_repo
    r = _bisect(repo, "--good", commits["leak"], "--bad", "v1.2.0", "--find-fix")
    assert r.rc == 0, r.stderr
    assert f"first commit that fixed the leak: {commits['fix']} fix" in r.stdout
    broken = commits["broken"][:12]
    assert " not built (untestable) " in _step_lines(r.stdout)[broken]
    assert _untestable(r.stdout) == [broken]


def test_bisect_step_answers_git_bisect_run(faulty_repo):
    repo, commits = faulty_repo
    out = _steps_answer(repo, [("v1.1.0", 0), (commits["leak"], 1), (commits["broken"], 125)])
    assert "untestable: does not build" in out
