#!/usr/bin/env python3
"""Benchmark (prints figures, asserts nothing): what one step of `tlsleak bisect` or
`tlsleak history` costs beside the allocator's own library build (README "Release history",
step costs). Each step is bisect.judge on a commit the build cache does not have yet, as a
bisection meets them: the allocator's library build, then the repro build (the CMake
configure of the tree and the programs of the step's cells), then the cells. Printed per step
and as medians over the steps: library build, repro build, run, total and total / library.

    ci/step_bench.py --repo mimalloc=/tmp/mimalloc --from v2.1.0 --steps 3
    ci/step_bench.py --repo jemalloc=/tmp/jemalloc --from 5.3.0 --steps 2 [--mode static]

The commits are the first-parent commits after --from that the build cache does not have, one
each, the first a warm-up (in parentheses, not in the medians); their builds stay in the build
cache (`tlsleak cache prune` removes them). --cold compiles every file of each library again
(CCACHE_RECACHE), as for a commit ccache never saw. Run it with the project's interpreter
($(cat .cache/python) ci/step_bench.py ...). Run it nice'd on a machine as quiet as can
be had: the figures are whole-machine wall times."""
import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "harness"))
from tlsleak import bisect, interrupts, sourcebuilds  # noqa: E402
from tlsleak.settings import make  # noqa: E402


def commits_after(repo, ref, n, skip_cached):
    line = subprocess.run(["git", "-C", repo, "rev-list", "--reverse", "--first-parent",
                           f"{ref}..HEAD"], capture_output=True, text=True, check=True)
    return [c for c in line.stdout.split() if c[:12] not in skip_cached][:n]


def cached(name):
    folder = ROOT / ".cache" / "builds" / name
    return {p.name[:12] for p in folder.iterdir()} if folder.is_dir() else set()


def row(label, s):
    total = (s.build_s or 0) + (s.repro_s or 0) + (s.run_s or 0)
    ratio = total / s.build_s if s.build_s else float("nan")
    print(f"{label:14} {s.build_s or 0:9.1f} {s.repro_s or 0:9.1f} {s.run_s or 0:7.1f} "
          f"{total:8.1f} {ratio:6.2f}  {s.verdict}", flush=True)
    return s.build_s or 0, s.repro_s or 0, s.run_s or 0, total, ratio


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", required=True, metavar="NAME=DIR")
    ap.add_argument("--from", dest="start", required=True, metavar="REF")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--mode", default="static")
    ap.add_argument("-s", "--scenario", default="last_round_alloc")
    ap.add_argument("--threads", type=int, default=2000)
    ap.add_argument("--build-dir", default=None,
                    help="the repro tree to build the steps' programs in (default: build/)")
    ap.add_argument("--cold", action="store_true",
                    help="compile every file of the library again (ccache neither read nor "
                         "skipped: CCACHE_RECACHE), as for a commit ccache never saw")
    args = ap.parse_args()
    if args.cold:
        os.environ["CCACHE_RECACHE"] = "1"
    repos = sourcebuilds.parse_repos([args.repo])
    name, repo = next(iter(repos.items()))
    settings = make(threads=args.threads)
    interrupts.install()
    print(f"{name} {args.mode}, scenario {args.scenario}, {args.threads} threads, "
          f"{'cold' if args.cold else 'warm'} ccache; seconds")
    print(f"{'commit':14} {'library':>9} {'repro':>9} {'run':>7} {'total':>8} {'ratio':>6}")
    rows = []
    for i, c in enumerate(commits_after(repo, args.start, args.steps + 1, cached(name))):
        step = bisect.judge(repo, c, name, args.mode, args.scenario, settings, args.build_dir,
                            retry=1)
        if i == 0:  # the warm-up: a new build tree's first configure and common objects
            row(f"({c[:10]})", step)
        elif step.build_s and step.repro_s is not None:
            rows.append(row(c[:12], step))
        else:
            print(f"{c[:12]:14} not measured: {step.verdict} {step.reason[:100]}")
    if rows:
        med = [statistics.median(col) for col in zip(*rows)]
        print(f"{'median':14} {med[0]:9.1f} {med[1]:9.1f} {med[2]:7.1f} {med[3]:8.1f} "
              f"{med[4]:6.2f}  ({len(rows)} steps)")


if __name__ == "__main__":
    main()
