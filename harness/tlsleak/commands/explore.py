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

from tlsleak import InfraError, UsageError, configs, interrupts, paths, results, session, target
from tlsleak.build import ROOT
from tlsleak.commands.options import add_param, int_in
from tlsleak.defaults import default
from tlsleak.explore import output, promote, search, space
from tlsleak.settings import make
from tlsleak.vocab import EXIT_INTERRUPTED, EXIT_OK, JUDGED

HELP = "search thread-teardown shapes for leaks nobody reported, and minimise each one"


def env_item(text):
    name, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise argparse.ArgumentTypeError(f"'{text}' is not NAME=VALUE")
    return name, value


def add_parser(sub):
    r = sub.add_parser("explore", help=HELP)
    add_param(r, "explore_budget_s")
    r.add_argument("-a", "--allocator", action="append", default=[], metavar="CONFIG",
                   help="configuration NAME[@VERSION][:MODE] (repeatable; default: all available)")
    r.add_argument("--seed", type=int_in(0, 2**31 - 1), default=1,
                   help="seed of the covering design (default 1): same seed, same points")
    add_param(r, "explore_threads")
    r.add_argument("--dims", metavar="NAME,...",
                   help="dimensions to vary (default: all); the others stay simplest: "
                        + ",".join(space.NAMES))
    r.add_argument("--env", action="append", default=[], type=env_item, metavar="NAME=VALUE",
                   help="set in every run's environment (repeatable), e.g. TLSLEAK_FAULTY=drop")
    r.add_argument("-j", "--jobs", type=int_in(1, 64), default=2,
                   help="runs at once (default 2)")
    r.add_argument("--out", help="output folder (default: results/explore/<time>-<pid>); "
                                 "findings.json and findings.md are kept up to date as it runs")
    r.add_argument("--overwrite", action="store_true",
                   help="replace the findings of another explore run in --out")
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
    odd = [f"{r.label} {r.verdict}" for r in p.runs if r.verdict not in JUDGED]
    print(f"[{p.phase}] {space.key(p.point)}: "
          f"{'LEAK ' + ', '.join(leaks) if leaks else 'no leak'}"
          f"{' (' + ', '.join(odd) + ')' if odd else ''}", file=sys.stderr)


def _prepare(args):
    """Build the explore program for the chosen configurations; returns (the configurations,
    the settings of each run, the target)."""
    build, manifest, confs = session.load(args.build_dir)
    if not manifest.get("explore"):
        raise InfraError("this build has no explore program (explore_point needs C++ threads)")
    chosen = configs.select(confs, args.allocator)
    s = make(threads=args.explore_threads, budget_s=default("explore_cell_budget_s"))
    s = replace(s, limits=s.limits.with_machine_caps(args.jobs))
    print(f"tlsleak explore: building {len(set(c.target for c in chosen))} "
          f"configuration(s)...", file=sys.stderr)
    tools = target.Target.from_manifest(manifest).tools()
    manifest = build.build([c.target for c in chosen] + tools, jobs=args.jobs)
    return chosen, s, target.Target.from_manifest(manifest)


def main(args):
    if args.promote:
        if not args.out:
            raise UsageError("--promote needs --out DIR, the folder of the explore run")
        path = promote.promote(Path(args.out), args.promote, ROOT / "repro" / "scenarios")
        print(f"wrote {path}")
        return EXIT_OK
    dims = _dims(args.dims)
    env = dict(args.env)
    out = output.claim(results.check_out_dir(args.out), args.overwrite) if args.out else \
        paths.state() / "results" / "explore" / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    chosen, s, tgt = _prepare(args)
    print(f"tlsleak explore: findings in {out}, written as they come", file=sys.stderr)
    t0 = time.monotonic()  # the budget is for the search; a build is done once
    record = dict(env=env, argv=args.argv)

    def save(result):  # the findings so far, after every point; an interrupt waits for it
        with interrupts.held():
            try:
                output.save(out, result, s, chosen, duration_s=time.monotonic() - t0, **record)
            except OSError as e:  # the search goes on; the final write says it again
                print(f"tlsleak explore: could not write the findings so far in {out}: "
                      f"{e.strerror or e}", file=sys.stderr)

    explorer = search.Explorer(chosen, s, tgt, env=env, jobs=args.jobs,
                               deadline=t0 + args.explore_budget_s, progress=_progress)
    result = search.explore(explorer, seed=args.seed, dims=dims, save=save)
    with interrupts.deferred():  # a second interrupt must not lose what was found
        try:
            described = output.write(out, result, s, chosen, duration_s=time.monotonic() - t0,
                                     **record)
        except OSError as e:
            raise InfraError(f"could not write the findings in {out}: {e.strerror or e}")
        print(output.table(described))
        covered = "; ".join("%s %d of %d points" % (k, *v) for k, v in result.covered.items())
        print(f"\n{len(described)} finding(s); {len(result.points)} point(s) x {len(chosen)} "
              f"configuration(s) in {time.monotonic() - t0:.0f} s"
              f"{' (stopped: ' + result.stopped + ')' if result.stopped else ''}; {covered}")
        print(f"findings: {out / 'findings.md'}  {out / 'findings.json'}")
    if result.interrupted or interrupts.noted():
        print("tlsleak: interrupted (the findings until then are written)", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK
