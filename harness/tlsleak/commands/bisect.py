"""tlsleak bisect: the commit of an allocator's history that made a scenario leak (or stop
leaking, or change its rate); tlsleak bisect-step: one commit, judged for `git bisect run`."""
import sys

from tlsleak import InfraError, UsageError, bisect, sourcebuilds
from tlsleak.commands.options import add_param
from tlsleak.commands.run import settings_from
from tlsleak.defaults import in_group

HELP = "find the commit of an allocator's git history that made a scenario leak"
STEP_HELP = "judge one commit for `git bisect run` (exit 0 good, 1 bad, 125 skip)"
EXIT_SKIP = 125  # git bisect run: this commit cannot be tested
# git bisect run marks 1..127 bad: a failure of ours (a tool missing, a bad option) must not
# look like a bad commit, so bisect-step says it with 128, which stops `git bisect run`.
EXIT_ABORT = 128


def _common(p):
    p.add_argument("--repo", required=True, metavar="DIR", help="git clone of the allocator")
    p.add_argument("-s", "--scenario", required=True, metavar="SCENARIO")
    p.add_argument("-a", "--allocator", required=True, metavar="NAME:MODE",
                   help="allocator and link mode to build each commit as, e.g. mimalloc:static")
    for group in ("workload", "criteria", "limits"):
        for prm in in_group(group):
            if prm.kind != "internal":
                add_param(p, prm.name)
    p.add_argument("--build-dir", help="CMake build tree (default: build/)")


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
    name, ref, mode = sourcebuilds.split(text)
    if ref or not mode:
        raise UsageError(f"-a {text}: expected NAME:MODE (the commits come from --repo)")
    return name, mode


def _judge(args):
    name, mode = name_mode(args.allocator)
    repo = sourcebuilds.parse_repos([f"{name}={args.repo}"])[name]
    settings = settings_from(args)
    return repo, lambda c: bisect.judge(repo, c, name, mode, args.scenario, settings,
                                        args.build_dir)


def _fmt(v, spec):
    width = int(spec.split(".")[0] or 0)
    return "-".rjust(width) if v is None else format(v, spec)


def main(args):
    repo, judge_one = _judge(args)
    first, candidates, steps = bisect.search(repo, args.good, args.bad, judge_one,
                                             use_rate=args.rate, floor=args.floor,
                                             good_leaks=args.find_fix)
    print(f"{'commit':12}  {'build s':>7}  {'repro s':>7}  {'run s':>6}  {'verdict':12}  "
          f"{'B/thread':>9}  subject")
    for s in steps:
        print(f"{s.commit[:12]}  {_fmt(s.build_s, '7.1f')}  {_fmt(s.repro_s, '7.1f')}  "
              f"{_fmt(s.run_s, '6.1f')}  "
              f"{s.verdict + (' (cached)' if s.built_reused else ''):12}  "
              f"{_fmt(s.rate, '9.0f')}  {s.subject}")
    what = ("changed the rate" if args.rate else "fixed the leak" if args.find_fix
            else "introduced the leak")
    if first is None:
        print(f"\ncannot tell which of {len(candidates)} commits {what} (some do not build): "
              + ", ".join(c[:12] for c in candidates))
        return 3
    subject = bisect.git(repo, "log", "-1", "--format=%s", first)
    print(f"\nfirst commit that {what}: {first} {subject}")
    return 0


def step_main(args):
    try:
        repo, judge_one = _judge(args)
        commit = bisect.git(repo, "rev-parse", f"{args.ref}^{{commit}}")
        s = judge_one(commit)
    except (InfraError, UsageError) as e:
        print(f"tlsleak: bisect-step cannot judge this commit: {e}", file=sys.stderr)
        return EXIT_ABORT
    print(f"{commit[:12]} {s.verdict} {_fmt(s.rate, '.0f')} B/thread  {s.subject}  "
          f"(allocator build {_fmt(s.build_s, '.1f')} s, repro build {_fmt(s.repro_s, '.1f')} s, "
          f"run {_fmt(s.run_s, '.1f')} s)")
    if s.verdict == "skip":
        return EXIT_SKIP
    if s.verdict in ("error", "inconclusive"):
        return EXIT_SKIP  # cannot be judged: neither good nor bad
    return 1 if s.leaking else 0


class _Step:
    """bisect-step as a command row of its own."""
    HELP = STEP_HELP
    add_parser = staticmethod(add_step_parser)
    main = staticmethod(step_main)


step = _Step
