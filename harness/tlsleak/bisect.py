"""Find the commit of an allocator's history that changed a cell: each step builds one commit
into the build cache (from an export: the user's clone, its index and any `git bisect` in
progress are never touched) and runs one scenario on it.

The state of a commit is its verdict (leaking or not), or with `rate` its rate bucket; the
search looks, between GOOD and BAD, for the first commit whose state is BAD's. A commit that
does not build is skipped, as `git bisect skip` would."""
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tlsleak import InfraError, UsageError, interrupts, session, sourcebuilds
from tlsleak.build import ROOT
from tlsleak.vocab import FINDINGS


@dataclass
class Step:
    commit: str
    subject: str
    build_s: float | None = None  # the allocator (0 when the cache had it)
    repro_s: float | None = None  # configure + build of the repro programs against it
    run_s: float | None = None  # the scenario itself
    verdict: str = ""  # "skip" when the commit does not build
    rate: float | None = None
    built_reused: bool = False

    @property
    def leaking(self):
        return self.verdict in FINDINGS


def git(repo, *args):
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          env={"GIT_OPTIONAL_LOCKS": "0", "PATH": "/usr/bin:/bin",
                               "LC_ALL": "C"})
    if proc.returncode != 0:
        raise UsageError(f"git {' '.join(args)} in {repo}: "
                         f"{(proc.stderr.strip().splitlines() or ['failed'])[-1]}")
    return proc.stdout.strip()


def judge(repo, commit, name, mode, scenario, settings, build_dir=None):
    """Build `commit` of `repo` and run `scenario` on it. BuildFailed gives a skipped step;
    an infrastructure failure (a tool missing) raises InfraError."""
    versions = interrupts.load("tlsleak.versions")
    step = Step(commit=commit, subject=git(repo, "log", "-1", "--format=%s", commit))
    t0 = time.monotonic()
    try:
        _, built = sourcebuilds.build_one(name, f"git:{repo}@{commit}", [mode], ROOT)
    except versions.BuildFailed as e:
        if e.infrastructure:
            raise InfraError(str(e))
        step.build_s, step.verdict = time.monotonic() - t0, "skip"
        return step
    step.build_s, step.built_reused = time.monotonic() - t0, built.reused
    with tempfile.TemporaryDirectory(prefix="tlsleak-bisect-") as out:
        t1 = time.monotonic()
        done = session.run(session.Request(
            settings=settings, scenarios=[scenario], allocators=[f"{name}@{built.label}:{mode}"],
            controls=False, out=Path(out), progress=False, build_dir=build_dir,
            built=[(built, [mode])], argv=["bisect-step", commit]))
        step.repro_s = done.build_s
        step.run_s = time.monotonic() - t1 - done.build_s
    cell = done.doc["cells"][0]
    step.verdict = cell["verdict"]
    step.rate = (cell.get("rate") or {}).get("value")
    return step


def state(step, use_rate, floor):
    """What the search compares: leaking or not, or with use_rate the rate in steps of
    max(floor, half the larger rate) (a change of rate, not noise around one)."""
    if not use_rate:
        return step.leaking
    return step.rate or 0.0


def differs(a, b, use_rate, floor):
    if not use_rate:
        return a != b
    return abs(a - b) > max(floor, 0.5 * max(abs(a), abs(b)))


def commits_between(repo, good, bad):
    """Commits after GOOD up to BAD, oldest first, on the ancestry path."""
    g, b = git(repo, "rev-parse", f"{good}^{{commit}}"), git(repo, "rev-parse", f"{bad}^{{commit}}")
    if git(repo, "merge-base", g, b) != g:
        raise UsageError(f"--good {good} is not an ancestor of --bad {bad}")
    listed = git(repo, "rev-list", "--reverse", "--ancestry-path", f"{g}..{b}").split()
    return g, listed


def search(repo, good, bad, judge_one, use_rate=False, floor=128.0, good_leaks=False):
    """(first commit with BAD's state or None, candidates when skips leave it ambiguous,
    steps in the order run). Without use_rate, GOOD must leak when good_leaks, else not."""
    g, listed = commits_between(repo, good, bad)
    if not listed:
        raise UsageError(f"--good {good} and --bad {bad} are the same commit")
    steps = []

    def run(c):
        s = judge_one(c)
        steps.append(s)
        return s

    first, last = run(g), run(listed[-1])
    if "skip" in (first.verdict, last.verdict):
        bad_end = first if first.verdict == "skip" else last
        raise UsageError(f"{bad_end.commit[:12]} ({bad_end.subject}) does not build: "
                         "choose ends that do")
    old, new = state(first, use_rate, floor), state(last, use_rate, floor)
    if not use_rate and first.leaking != good_leaks:
        raise UsageError(f"--good {good} {'does not leak' if good_leaks else 'leaks'} "
                         f"({first.verdict}): " + ("--find-fix wants a leaking GOOD" if good_leaks
                                                  else "swap the ends, or use --find-fix"))
    if not differs(old, new, use_rate, floor):
        raise UsageError(f"{good} and {bad} agree ({first.verdict} {first.rate} vs "
                         f"{last.verdict} {last.rate}): nothing to bisect")
    lo, hi = -1, len(listed) - 1  # lo: last known old state (-1 = good), hi: first known new
    skipped = set()
    while hi - lo > 1:
        open_ = [i for i in range(lo + 1, hi) if i not in skipped]
        if not open_:
            break
        mid = (lo + hi) // 2
        pick = min(open_, key=lambda i: (abs(i - mid), i))
        s = run(listed[pick])
        if s.verdict == "skip":
            skipped.add(pick)
            continue
        if differs(old, state(s, use_rate, floor), use_rate, floor):
            hi = pick
        else:
            lo = pick
    candidates = listed[lo + 1:hi + 1]
    return (listed[hi] if len(candidates) == 1 else None), candidates, steps

