"""tlsleak explore: search the space of thread-teardown shapes (explore/space.py) for leaks,
minimise and de-duplicate them, and write a standalone repro and an issue draft per finding.
The search is explore/search.py's, the output folder explore/output.py's; --promote turns a
finding into a catalog scenario (explore/promote.py)."""
import argparse
import os
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

from tlsleak import InfraError, UsageError, configs, results, session, target
from tlsleak.build import ROOT
from tlsleak.commands.options import int_in
from tlsleak.explore import output, promote, search, space
from tlsleak.settings import make

HELP = "search thread-teardown shapes for leaks nobody reported, and minimise each one"

THREADS = 2000  # per run: enough for the floor, short enough for hundreds of runs
CELL_BUDGET_S = 20.0  # sequential budget of one run


def duration(text):
    """10m, 90s, 1h, or plain seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if not m or float(m.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a duration (like 10m, 90s or 1h)")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def env_item(text):
    name, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise argparse.ArgumentTypeError(f"'{text}' is not NAME=VALUE")
    return name, value


def add_parser(sub):
    r = sub.add_parser("explore", help=HELP)
    r.add_argument("--budget", type=duration, default=600.0, metavar="DURATION",
                   help="start no point after this long (10m, 90s; default 10m); counted from the "
                        "end of the build")
    r.add_argument("-a", "--allocator", action="append", default=[], metavar="CONFIG",
                   help="configuration NAME[@VERSION][:MODE] (repeatable; default: all available)")
    r.add_argument("--seed", type=int_in(0, 2**31 - 1), default=1,
                   help="seed of the covering design (default 1): same seed, same points")
    r.add_argument("--threads", type=int_in(100, 1_000_000), default=THREADS,
                   help=f"threads per run (default {THREADS})")
    r.add_argument("--dims", metavar="NAME,...",
                   help="dimensions to vary (default: all); the others stay simplest: "
                        + ",".join(space.NAMES))
    r.add_argument("--env", action="append", default=[], type=env_item, metavar="NAME=VALUE",
                   help="set in every run's environment (repeatable), e.g. TLSLEAK_FAULTY=drop")
    r.add_argument("-j", "--jobs", type=int_in(1, 64), default=2,
                   help="runs at once (default 2)")
    r.add_argument("--out", help="output folder (default: results/explore/<time>-<pid>)")
    r.add_argument("--build-dir", help="CMake build tree (default: build/)")
    r.add_argument("--promote", metavar="FINDING",
                   help="write finding FINDING of the run in --out as a catalog scenario")
    return r


def _dims(text):
    if not text:
        return space.DIMENSIONS
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in space.BY_NAME]
    if unknown or not names:
        raise UsageError(f"unknown dimension(s) {', '.join(unknown) or '(none)'} "
                         f"(known: {', '.join(space.NAMES)})")
    return tuple(d for d in space.DIMENSIONS if d.name in names)


def _progress(p):
    leaks = [f"{r.label} {r.rate:.0f}" for r in p.runs if r.verdict == "leak"]
    odd = [f"{r.label} {r.verdict}" for r in p.runs if r.verdict not in ("leak", "ok")]
    print(f"[{p.phase}] {space.key(p.point)}: "
          f"{'LEAK ' + ', '.join(leaks) if leaks else 'no leak'}"
          f"{' (' + ', '.join(odd) + ')' if odd else ''}", file=sys.stderr)


def main(args):
    if args.promote:
        if not args.out:
            raise UsageError("--promote needs --out DIR, the folder of the explore run")
        path = promote.promote(Path(args.out), args.promote, ROOT / "repro" / "scenarios")
        print(f"wrote {path}")
        return 0
    dims = _dims(args.dims)
    env = dict(args.env)
    out = results.check_out_dir(args.out) if args.out else \
        ROOT / "results" / "explore" / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    build, manifest, confs = session.load(args.build_dir)
    if not manifest.get("explore"):
        raise InfraError("this build has no explore program (explore_point needs C++ threads)")
    chosen = configs.select(confs, args.allocator)
    s = make(threads=args.threads, budget_s=CELL_BUDGET_S)
    s = replace(s, limits=s.limits.with_machine_caps(args.jobs))
    print(f"tlsleak explore: building {len(set(c.target for c in chosen))} "
          f"configuration(s)...", file=sys.stderr)
    manifest = build.build([c.target for c in chosen], jobs=args.jobs)
    t0 = time.monotonic()  # the budget is for the search; a build is done once
    explorer = search.Explorer(chosen, s, target.Target.from_manifest(manifest), env=env,
                               jobs=args.jobs, deadline=t0 + args.budget, progress=_progress)
    result = search.explore(explorer, seed=args.seed, dims=dims)
    described = output.write(out, result, s, chosen, env=env, argv=args.argv,
                             duration_s=time.monotonic() - t0)
    print(output.table(described))
    covered = "; ".join("%s %d of %d points" % (k, *v) for k, v in result.covered.items())
    print(f"\n{len(described)} finding(s); {len(result.points)} point(s) x {len(chosen)} "
          f"configuration(s) in {time.monotonic() - t0:.0f} s"
          f"{' (stopped: ' + result.stopped + ')' if result.stopped else ''}; {covered}")
    print(f"findings: {out / 'findings.md'}  {out / 'findings.json'}")
    return 0
