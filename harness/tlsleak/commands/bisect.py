"""tlsleak bisect: the commit of an allocator's history that made a scenario leak (or stop
leaking, or change its rate); tlsleak bisect-step: one commit, judged for `git bisect run`."""
import sys

from tlsleak import InfraError, UsageError, bisect, identity, sourcebuilds
from tlsleak.commands.options import add_param
from tlsleak.commands.run import add_platform, settings_from
from tlsleak.defaults import SETTINGS_GROUPS, in_group
from tlsleak.vocab import EXIT_ABORT, EXIT_INCONCLUSIVE, EXIT_LEAK, EXIT_OK, EXIT_SKIP

HELP = "find the commit of an allocator's git history that made a scenario leak"
STEP_HELP = (f"judge one commit for `git bisect run` (exit {EXIT_OK} good, {EXIT_LEAK} bad, "
             f"{EXIT_SKIP} skip)")


def _common(p):
    p.add_argument("--repo", required=True, metavar="DIR", help="git clone of the allocator")
    p.add_argument("-s", "--scenario", required=True, metavar="SCENARIO")
    p.add_argument("-a", "--allocator", required=True, metavar="NAME:MODE",
                   help="allocator and link mode to build each commit as, e.g. mimalloc:static")
    for group in SETTINGS_GROUPS:
        for prm in in_group(group):
            if prm.kind != "internal":
                add_param(p, prm.name)
    p.add_argument("--build-dir", help="CMake build tree (default: the platform's)")
    add_platform(p)


def add_parser(sub):
    p = sub.add_parser("bisect", help=HELP)
    _common(p)
    p.add_argument("--good", required=True, metavar="REF", help="a commit without the leak")
    p.add_argument("--bad", required=True, metavar="REF", help="a commit with it")
    p.add_argument("--find-fix", action="store_true",
                   help="GOOD leaks and BAD does not: find the commit that fixed it")
    p.add_argument("--rate", action="store_true",
                   help="bisect on a change of rate (B/thread) rather than of verdict")
    return p


def add_step_parser(sub):
    p = sub.add_parser("bisect-step", help=STEP_HELP)
    _common(p)
    p.add_argument("--ref", default="HEAD", help="commit to judge (default: HEAD of --repo)")
    return p


def name_mode(text):
    name, ref, mode = identity.split(text)
    if ref or not mode:
        raise UsageError(f"-a {text}: expected NAME:MODE (the commits come from --repo)")
    return name, mode


def _judge(args):
    name, mode = name_mode(args.allocator)
    repo = sourcebuilds.parse_repos([f"{name}={args.repo}"])[name]
    settings = settings_from(args)
    return repo, lambda c: bisect.judge(repo, c, name, mode, args.scenario, settings,
                                        args.build_dir, platform=args.platform)


def _fmt(v, spec):
    width = int(spec.split(".")[0] or 0)
    return "-".rjust(width) if v is None else format(v, spec)


def _verdict_text(s):
    """'ok (cached)', 'error, then error (untestable)', 'not built (untestable)'."""
    notes = ["cached"] * s.built_reused + ["untestable"] * (not s.testable)
    return (", then ".join(s.tries) or s.verdict) + (f" ({', '.join(notes)})" if notes else "")


def print_steps(steps):
    print(f"{'commit':12}  {'build s':>7}  {'repro s':>7}  {'run s':>6}  {'verdict':38}  "
          f"{'B/thread':>9}  subject")
    for s in steps:
        print(f"{s.commit[:12]}  {_fmt(s.build_s, '7.1f')}  {_fmt(s.repro_s, '7.1f')}  "
              f"{_fmt(s.run_s, '6.1f')}  {_verdict_text(s):38}  {_fmt(s.rate, '9.0f')}  "
              f"{s.subject}")


def print_answer(repo, answer, what):
    """The untestable commits, then the commit found or the candidates; returns the exit
    code (EXIT_INCONCLUSIVE when the untestable commits leave the answer open)."""
    if answer.untestable:
        print("\nuntestable, skipped as `git bisect skip` would (never taken for either side):")
        for s in answer.untestable:
            print(f"  {s.commit[:12]} {s.subject}: {s.verdict}: {s.reason}")
    if answer.first is not None:
        subject = bisect.git(repo, "log", "-1", "--format=%s", answer.first)
        print(f"\nfirst commit that {what}: {answer.first} {subject}")
        return EXIT_OK
    print(f"\ncannot tell which of {len(answer.candidates)} commits {what}: untestable "
          f"commits lie between {answer.last_good[:12]} and {answer.candidates[-1][:12]} "
          f"(git log {answer.last_good[:12]}..{answer.candidates[-1][:12]}); candidates:")
    for c in answer.candidates:
        print(f"  {c[:12]} {bisect.git(repo, 'log', '-1', '--format=%s', c)}")
    return EXIT_INCONCLUSIVE


def main(args):
    repo, judge_one = _judge(args)
    answer = bisect.search(repo, args.good, args.bad, judge_one, use_rate=args.rate,
                           floor=args.floor, good_leaks=args.find_fix)
    print_steps(answer.steps)
    what = ("changed the rate" if args.rate else "fixed the leak" if args.find_fix
            else "introduced the leak")
    return print_answer(repo, answer, what)


def step_main(args):
    try:
        repo, judge_one = _judge(args)
        commit = bisect.git(repo, "rev-parse", f"{args.ref}^{{commit}}")
        s = judge_one(commit)
    except (InfraError, UsageError) as e:
        print(f"tlsleak: bisect-step cannot judge this commit: {e}", file=sys.stderr)
        return EXIT_ABORT
    print(f"{commit[:12]} {_verdict_text(s)} {_fmt(s.rate, '.0f')} B/thread  {s.subject}  "
          f"(allocator build {_fmt(s.build_s, '.1f')} s, repro build {_fmt(s.repro_s, '.1f')} s, "
          f"run {_fmt(s.run_s, '.1f')} s)")
    if not s.testable:
        print(f"untestable: {s.reason}")
        return EXIT_SKIP
    return EXIT_LEAK if s.leaking else EXIT_OK


class _Step:
    """bisect-step as a command row of its own."""
    HELP = STEP_HELP
    add_parser = staticmethod(add_step_parser)
    main = staticmethod(step_main)


step = _Step
