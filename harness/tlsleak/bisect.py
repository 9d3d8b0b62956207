"""Find the commit of an allocator's history that changed a cell: each step builds one commit
into the build cache (from an export: the user's clone, its index and any `git bisect` in
progress are never touched) and runs one scenario on it through session.run, the cell pipeline
every command uses.

A commit's state is its verdict, `ok` or `leak` (with `rate`, its rate bucket). A commit whose
cell is neither (inconclusive, error, crash, timeout) is judged once more with a larger thread
budget (defaults.PARAMS `bisect_retry`); if it is still neither, or if it does not build, it is
untestable, as `git bisect skip` has it: never taken for either side. The search looks,
between GOOD and BAD, for the first commit whose state is BAD's; when untestable commits sit
where the answer is, it names the candidates instead of guessing."""
import subprocess
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from tlsleak import InfraError, UsageError, paths, platforms, provision, session, sourcebuilds
from tlsleak.defaults import BY_NAME, default
from tlsleak.versions import BuildFailed
from tlsleak.vocab import JUDGED

NOT_BUILT = "not built"  # a step's verdict when its commit does not build


@dataclass
class Step:
    commit: str
    subject: str
    build_s: float | None = None  # the allocator (0 when the cache had it)
    repro_s: float | None = None  # configure + build of the repro programs against it
    run_s: float | None = None  # the scenario itself (both judgements when it was judged twice)
    verdict: str = NOT_BUILT  # the cell's verdict (vocab.VERDICTS), or NOT_BUILT
    rate: float | None = None
    reason: str = ""  # the cell's reason, or why it did not build
    built_reused: bool = False
    tries: list = field(default_factory=list)  # every verdict, in order (a re-judged step: 2)

    @property
    def testable(self):
        """Whether the step says which side its commit is on (git bisect: not a skip)."""
        return self.verdict in JUDGED

    @property
    def leaking(self):
        return self.verdict == "leak"


def git(repo, *args):
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          env={"GIT_OPTIONAL_LOCKS": "0", "PATH": "/usr/bin:/bin",
                               "LC_ALL": "C"})
    if proc.returncode != 0:
        raise UsageError(f"git {' '.join(args)} in {repo}: "
                         f"{(proc.stderr.strip().splitlines() or ['failed'])[-1]}")
    return proc.stdout.strip()


def larger(settings, factor):
    """The settings of a second judgement: `factor` times the threads, the sequential budget
    and the timeout, within their ranges (defaults.PARAMS)."""
    w, c, lim = settings.workload, settings.criteria, settings.limits

    def grow(name, value):
        return type(value)(min(value * factor, BY_NAME[name].hi))
    return replace(settings, workload=replace(w, threads=grow("threads", w.threads)),
                   criteria=replace(c, budget_s=grow("budget_s", c.budget_s)),
                   limits=replace(lim, timeout_s=grow("timeout_s", lim.timeout_s)))


def _run_once(step, built, name, mode, scenario, settings, build_dir, platform):
    """Judge the built commit once; records the verdict, rate, reason and times in `step`."""
    with tempfile.TemporaryDirectory(prefix="tlsleak-bisect-") as out:
        t1 = time.monotonic()
        done = session.run(session.Request(
            settings=settings, scenarios=[scenario], allocators=built.ids([mode]),
            controls=False, out=Path(out), progress=False, build_dir=build_dir, platform=platform,
            built=[(built, [mode])], argv=["bisect-step", step.commit]))
        step.repro_s = (step.repro_s or 0.0) + done.build_s
        step.run_s = (step.run_s or 0.0) + time.monotonic() - t1 - done.build_s
    if done.doc["interrupted"]:  # the step was cut short: no verdict, and the bisection ends
        raise KeyboardInterrupt
    cell = done.doc["cells"][0]
    step.verdict, step.reason = cell["verdict"], cell["reason"]
    step.rate = (cell.get("rate") or {}).get("value")
    step.tries.append(step.verdict)


def judge(repo, commit, name, mode, scenario, settings, build_dir=None,
          retry=default("bisect_retry"), platform="native"):
    """Build `commit` of `repo` for `platform` and run `scenario` on it there; a verdict
    neither ok nor leak is judged once more with `retry` times the threads. A commit that does
    not build gives an untestable step; an infrastructure failure (a tool missing) raises
    InfraError."""
    step = Step(commit=commit, subject=git(repo, "log", "-1", "--format=%s", commit))
    plat = platforms.get(platform)
    provision.ensure(plat.SETUP_PROFILE)
    plat.check()
    t0 = time.monotonic()
    try:
        _, built = sourcebuilds.build_one(name, f"git:{repo}@{commit}", [mode],
                                          paths.state(), toolchain=plat.TOOLCHAIN)
    except BuildFailed as e:
        if e.infrastructure:
            raise InfraError(str(e))
        step.build_s, step.reason = time.monotonic() - t0, f"does not build: {e}"
        return step
    step.build_s, step.built_reused = time.monotonic() - t0, built.reused
    _run_once(step, built, name, mode, scenario, settings, build_dir, platform)
    if not step.testable and retry > 1:
        _run_once(step, built, name, mode, scenario, larger(settings, retry), build_dir,
                  platform)
    return step


def state(step, use_rate):
    """What the search compares: leaking or not, or with use_rate the rate."""
    return (step.rate or 0.0) if use_rate else step.leaking


def differs(a, b, use_rate, floor):
    """Whether two states are on different sides: with use_rate, rates apart by more than
    max(floor, half the larger rate) (a change of rate, not noise around one)."""
    if not use_rate:
        return a != b
    return abs(a - b) > max(floor, 0.5 * max(abs(a), abs(b)))


def commits_between(repo, good, bad):
    """Commits after GOOD up to BAD, oldest first, on the ancestry path."""
    g, b = git(repo, "rev-parse", f"{good}^{{commit}}"), git(repo, "rev-parse", f"{bad}^{{commit}}")
    if git(repo, "merge-base", g, b) != g:
        raise UsageError(f"--good {good} is not an ancestor of --bad {bad}")
    listed = git(repo, "rev-list", "--reverse", "--ancestry-path", f"{g}..{b}").split()
    if not listed:
        raise UsageError(f"--good {good} and --bad {bad} are the same commit")
    return g, listed


@dataclass
class Answer:
    """What a bisection found: the first commit with BAD's state (None when untestable commits
    leave it open), the candidates (that commit alone, or every commit it may be), the steps in
    the order they ran, and the last commit known to have GOOD's state."""
    first: str | None
    candidates: list
    steps: list
    last_good: str

    @property
    def untestable(self):
        return [s for s in self.steps if not s.testable]


def _check_ends(good, bad, first, last, use_rate, floor, good_leaks):
    """UsageError unless GOOD and BAD were judged and are on the sides asked for."""
    for ref, s in ((good, first), (bad, last)):
        if not s.testable:
            raise UsageError(f"{ref} ({s.commit[:12]} {s.subject}) cannot be judged: "
                             f"{s.verdict}, {s.reason}; choose ends that can")
    if not use_rate and first.leaking != good_leaks:
        raise UsageError(f"--good {good} {'does not leak' if good_leaks else 'leaks'} "
                         f"({first.verdict}): " + ("--find-fix wants a leaking GOOD" if good_leaks
                                                  else "swap the ends, or use --find-fix"))
    if not differs(state(first, use_rate), state(last, use_rate), use_rate, floor):
        raise UsageError(f"{good} and {bad} agree ({first.verdict} {first.rate} vs "
                         f"{last.verdict} {last.rate}): nothing to bisect")


def search(repo, good, bad, judge_one, use_rate=False, floor=default("floor"),
           good_leaks=False):
    """Bisect the history of `repo` between GOOD and BAD; returns an Answer."""
    g, listed = commits_between(repo, good, bad)
    return walk(g, listed, judge_one, use_rate, floor, good_leaks, ends=(good, bad))


def walk(g, listed, judge_one, use_rate=False, floor=default("floor"), good_leaks=False,
         ends=None):
    """Bisect the commits `listed` (oldest first) after `g`, GOOD, up to the last, BAD, with
    `judge_one(commit) -> Step`; returns an Answer. Without use_rate, GOOD must leak when
    good_leaks, else not. Untestable commits are skipped: never either side."""
    steps = []

    def run(c):
        steps.append(judge_one(c))
        return steps[-1]

    first, last = run(g), run(listed[-1])
    _check_ends(*(ends or (g, listed[-1])), first, last, use_rate, floor, good_leaks)
    old = state(first, use_rate)
    lo, hi = -1, len(listed) - 1  # lo: last known old state (-1 = good), hi: first known new
    untestable = set()
    while hi - lo > 1:
        open_ = [i for i in range(lo + 1, hi) if i not in untestable]
        if not open_:
            break
        mid = (lo + hi) // 2
        pick = min(open_, key=lambda i: (abs(i - mid), i))
        s = run(listed[pick])
        if not s.testable:
            untestable.add(pick)
        elif differs(old, state(s, use_rate), use_rate, floor):
            hi = pick
        else:
            lo = pick
    candidates = listed[lo + 1:hi + 1]
    return Answer(first=listed[hi] if len(candidates) == 1 else None, candidates=candidates,
                  steps=steps, last_good=g if lo < 0 else listed[lo])
