"""tlsleak run: the matrix (scenario x configuration), or --exec a program of yours; prints the
table. Everything between plan and conclusion is session.run's."""
import argparse
import json
import os
import sys
from dataclasses import replace

from tlsleak import (UsageError, __version__, environment, platforms, session, shard, signals,
                     sourcebuilds, table)
from tlsleak.vocab import EXIT_INFRA
from tlsleak.commands import report as report_cmd
from tlsleak.commands.options import add_param, int_in
from tlsleak.defaults import (PLATFORM_DEFAULTS, SETTINGS_GROUPS, default, in_group,
                              platform_dependent)
from tlsleak.settings import make
from tlsleak.target import PRELOAD_VARS

HELP = "run the matrix (scenario x configuration) and judge each cell"


def add_parser(sub):
    r = sub.add_parser("run", help=HELP)
    r.add_argument("-s", "--scenario", action="append", default=[], metavar="SCENARIO",
                   help="scenario to run (repeatable; default: every non-fault scenario)")
    r.add_argument("-a", "--allocator", action="append", default=[], metavar="CONFIG",
                   help="configuration NAME[@VERSION][:MODE] (repeatable; default: all available); "
                        "NAME@REF:MODE builds REF (of --repo NAME=DIR, or debian, dir:DIR, "
                        "tar:FILE, git:DIR@REF) from source")
    add_platform(r)
    for group in SETTINGS_GROUPS:
        for p in in_group(group):
            if p.name in platform_dependent():
                others = "; ".join(f"{k} {v[p.name]:g}" for k, v in PLATFORM_DEFAULTS.items()
                                   if p.name in v)
                add_param(r, p.name, default=None,
                          help=f"{p.help} (default {p.default:g}; {others})")
            elif p.kind != "internal":
                add_param(r, p.name)
    r.add_argument("-j", "--jobs", type=int_in(1, 64), default=os.cpu_count() or 1,
                   help="cells run at once (default: CPU count)")
    r.add_argument("--out", help="output folder (default: results/runs/<run id>, one per run)")
    r.add_argument("--overwrite", "--force", dest="overwrite", action="store_true",
                   help="replace the results of another run in --out")
    r.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                   help="set a variable in every cell, recorded in each (repeatable); cells "
                        "get only PATH, HOME, LANG, TMPDIR, TERM and the like from your shell, "
                        "never MALLOC_CONF, MIMALLOC_*, LD_LIBRARY_PATH, ... unless given here")
    r.add_argument("--json", action="store_true", help="print results.json instead of the table")
    r.add_argument("--no-report", action="store_true",
                   help="do not write plots/, summary.md and report.html into the output folder")
    r.add_argument("--shard", metavar="K/N", type=shard_arg,
                   help="run only shard K of N of the planned cells (controls in every shard); "
                        "`tlsleak merge` combines the shards")
    r.add_argument("--no-controls", action="store_true",
                   help="do not add the positive and negative controls")
    r.add_argument("--baseline", metavar="FILE",
                   help="compare with a baseline: exit 1 only on leaks it does not know")
    r.add_argument("--write-baseline", metavar="FILE",
                   help="record this run as a baseline (keeps explanations already written)")
    r.add_argument("--repo", action="append", default=[], metavar="NAME=DIR",
                   help="git clone of allocator NAME: -a NAME@REF:MODE then builds REF of it "
                        "(tag, branch, commit) into .cache/builds")
    r.add_argument("--build-dir", help="CMake build tree (default: the platform's, build/ or "
                                        "build-wine/)")
    r.add_argument("--exec", dest="exec_argv", action="store_const", const=[],
                   help="-- CMD [ARGS...]: run your own program instead of the scenarios "
                        "(everything after --exec is its command line)")
    return r


def add_platform(parser):
    parser.add_argument("--platform", choices=platforms.NAMES, default="native",
                        help="where the programs run: natively, or cross-built for Windows and "
                             "run under Wine (default native)")


def shard_arg(text):
    try:
        return shard.parse(text)
    except UsageError as e:
        raise argparse.ArgumentTypeError(str(e))


def settings_from(args, jobs=None):
    """Settings from the parsed options that defaults.PARAMS declares; one left unset takes
    the default of the --platform. Caps left at 0 get the machine's values for `jobs` cells at
    once (None: session.run sets them, for the cells that actually run)."""
    platform = getattr(args, "platform", "native")
    values = {p.name: getattr(args, p.name) for g in SETTINGS_GROUPS
              for p in in_group(g) if hasattr(args, p.name)}
    values = {k: default(k, platform) if v is None else v for k, v in values.items()}
    values["deciding"] = signals.deciding(values.pop("signals", "all"))
    s = make(**values)
    return s if jobs is None else replace(s, limits=s.limits.with_machine_caps(jobs))


def env_from(items):
    """--env NAME=VALUE options as a dict; a preload is the configuration's, never given."""
    try:
        env = environment.parse_assignments(items)
    except ValueError as e:
        raise UsageError(str(e))
    taken = sorted(set(env) & set(PRELOAD_VARS))
    if taken:
        raise UsageError(f"--env {taken[0]}: the preload is set by the configuration "
                         f"(use -a NAME:override)")
    return env


def main(args):
    req = session.Request(
        settings=settings_from(args), scenarios=args.scenario,
        allocators=args.allocator, jobs=args.jobs, controls=not args.no_controls,
        exec_argv=args.exec_argv, out=args.out, baseline=args.baseline,
        write_baseline=args.write_baseline, repos=sourcebuilds.parse_repos(args.repo),
        build_dir=args.build_dir, argv=args.argv, shard=args.shard, env=env_from(args.env),
        overwrite=args.overwrite, platform=args.platform, report=not args.no_report)
    done = session.run(req, show=lambda d: show(d, req, args.json))
    doc = done.doc
    if not args.json:  # said first: an interrupt or a failure in the report still leaves it
        print(f"results: {done.out / 'results.json'}  junit: {done.out / 'junit.xml'}  "
              f"({doc['duration_s']:.1f} s)", flush=True)
    # results.json and junit.xml are written: a report that fails loses nothing measured.
    failed = None if args.no_report else report_cmd.try_reports(doc, done.out,
                                                                overwrite=args.overwrite)
    code = EXIT_INFRA if failed else done.exit_code
    if args.json:
        if failed:
            print(f"tlsleak: report failed: {failed}", file=sys.stderr)
        return code
    if not args.no_report and not failed:
        print(f"report: {done.out / 'report.html'}  summary: {done.out / 'summary.md'}")
    if failed:  # said last, where it is seen
        print(f"tlsleak: report failed: {failed}", file=sys.stderr)
    return code


def show(done, req, as_json=False):
    """The verdicts, printed before anything is written."""
    doc = done.doc
    if as_json:
        print(json.dumps(doc, indent=2), flush=True)
        return
    cells, s = doc["cells"], req.settings
    w, c = s.workload, s.criteria
    n_s, n_c = len({x["scenario"] for x in cells}), len({x["config"] for x in cells})
    print(f"tlsleak {__version__}: {n_s} scenario(s) x {n_c} configuration(s); "
          f"{w.threads} threads per cell, {w.concurrency} alive at once, "
          f"{w.size} B blocks; Theil-Sen slope after {c.warmup:.0%} warm-up, "
          f"{c.confidence:.0%} CI, floor {c.floor:g} B/thread "
          f"({c.stats_floor:g} for allocator statistics)\n")
    print(table.run_text(doc), flush=True)
