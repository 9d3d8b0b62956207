"""tlsleak history: chosen scenarios (default: the catalog) across the releases of an
allocator (every tag matching a pattern, or a range every N commits), in chosen link modes.
Each release is built into the build cache (reused, leased while used; a release that does not
build is kept as such, with its first error line), then every cell of every release runs in
one session.run (the one cell pipeline) into one results file with a `history` block
(releases.py); the table, the flips with their `tlsleak bisect` commands (historyview.py) and
the chart (historyplot.py) are views of it. Releases are dealt to shards (--shard K/N), which
`tlsleak merge` combines like the shards of `run`."""
import datetime
import re
import sys
import time

from tlsleak import (InfraError, UsageError, catalog, historyview, identity, paths, releases,
                     results, session, sourcebuilds)
from tlsleak.build import ROOT
from tlsleak.commands import report as report_cmd
from tlsleak.commands.options import add_param, int_in
from tlsleak.commands.run import settings_from, shard_arg
from tlsleak.defaults import SETTINGS_GROUPS, in_group
from tlsleak.escape import terminal as safe
from tlsleak.target import Target
from tlsleak.versions import BuildFailed
from tlsleak.vocab import EXIT_INFRA, EXIT_OK, is_control

HELP = "measure scenarios across the releases of an allocator: table, chart, verdict flips"


def add_parser(sub):
    p = sub.add_parser("history", help=HELP)
    p.add_argument("--repo", required=True, metavar="DIR", help="git clone of the allocator")
    p.add_argument("-a", "--allocator", action="append", required=True, metavar="NAME:MODE",
                   help="allocator and link mode to build each release as (repeatable for "
                        "more modes of the same allocator), e.g. mimalloc:static")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--tags", metavar="PATTERN", action="append",
                       help="every tag matching this glob, e.g. 'v2.*' (repeatable: any of "
                            "them)")
    which.add_argument("--range", metavar="A..B", help="commits from A to B (first parent)")
    p.add_argument("--every", type=int_in(1, 1_000_000), default=1, metavar="N",
                   help="with --range: every N-th commit (A and B always; default 1)")
    p.add_argument("--order", choices=releases.ORDERS[:2], default="version",
                   help="order of the tags: by version (default) or by commit date "
                        "(a --range is in commit order)")
    p.add_argument("-s", "--scenario", action="append", default=[], metavar="SCENARIO",
                   help="scenario to run (repeatable; default: every non-fault scenario)")
    for group in SETTINGS_GROUPS:
        for prm in in_group(group):
            if prm.kind != "internal":
                add_param(p, prm.name)
    p.add_argument("-j", "--jobs", type=int_in(1, 64), default=1,
                   help="cells run at once (default 1)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the results of another run in --out")
    p.add_argument("--shard", metavar="K/N", type=shard_arg,
                   help="measure only shard K of N of the releases; `tlsleak merge` "
                        "combines the shards")
    p.add_argument("--no-controls", action="store_true",
                   help="do not add the positive and negative controls")
    p.add_argument("--no-report", action="store_true",
                   help="do not write plots/, history.md, history.html, summary.md and "
                        "report.html")
    p.add_argument("--build-dir", help="CMake build tree (default: build/)")
    return p


def _name_modes(specs):
    """-a NAME:MODE options -> (name, [modes]); one allocator, each mode once."""
    parsed = [identity.split(t) for t in specs]
    names = {s.name for s in parsed}
    if len(names) != 1 or any(s.version or not s.mode for s in parsed):
        raise UsageError(f"-a {' -a '.join(specs)}: expected NAME:MODE of one allocator "
                         f"(the releases come from --repo)")
    return names.pop(), list(dict.fromkeys(s.mode for s in parsed))


def first_error(e):
    """The first line of a failed build's log that reports an error (`file:line: error: ...`,
    `make: *** ... Error 1`; never a logged command line), else the failure's message."""
    said = [line.strip() for line in (e.log_tail or "").splitlines()
            if line.strip() and not line.startswith("$ ")]
    for pattern in (re.compile(r"\berror\b:", re.I), re.compile(r"\berror\b", re.I)):
        found = next((line for line in said if pattern.search(line)), None)
        if found:
            return found[:200]
    return str(e).splitlines()[0][:200]


def build_releases(name, repo, modes, mine, jobs):
    """Build each release into the cache (leased for this process); fills in each Release's
    built, ids, error and build_s. Returns [(versions.Built, modes)] of those that built."""
    built = []
    for r in mine:
        t0 = time.monotonic()
        print(f"tlsleak: building {name} {r.ref} ({r.commit[:12]})...", file=sys.stderr,
              flush=True)
        try:
            _, b = sourcebuilds.build_one(name, f"git:{repo}@{r.commit}", modes, paths.state(),
                                          jobs)
        except BuildFailed as e:
            if e.infrastructure:
                raise InfraError(str(e))
            r.built, r.error = False, first_error(e)
        else:
            r.built, r.ids, r.reused = True, b.ids(modes), b.reused
            built.append((b, modes))
        r.build_s = round(time.monotonic() - t0, 2)
    return built


def _plan(args, name, modes, scenarios, every, mine, settings):
    """The run's plan record: the whole history's fingerprint (every shard's)."""
    fp = releases.fingerprint(name, modes, scenarios, every, settings)
    n_controls = 0 if args.no_controls else sum(
        1 for s in catalog.load(ROOT) if is_control(s.role))
    return {"fingerprint": fp, "cells": (len(scenarios) + n_controls) * len(every) * len(modes),
            "shard": list(args.shard) if args.shard else None, "scenarios": list(scenarios),
            "configs": []}


def _record_unbuilt(args, out, hist, settings, plan):
    """The results file of a history none of whose releases (of this shard) builds: no cells,
    each release marked with its first error, on the target the other shards ran on, so that
    `merge` shows those releases beside the others' instead of dropping them. Returns out."""
    started = datetime.datetime.now(datetime.timezone.utc)
    _, manifest, _ = session.load(args.build_dir)
    doc = results.document(
        argv=args.argv, started=started, duration_s=0.0, interrupted=False, manifest=manifest,
        settings=settings, cells=[], unavailable=[], controls=results.check_controls([]),
        exit_code=EXIT_OK, plan={**plan, "selected": 0}, tgt=Target.from_manifest(manifest))
    doc = {**session.with_run_id(doc, session.new_run_id(started)), "history": hist}
    results.write_outputs(out, doc)
    if not args.no_report:
        report_cmd.try_reports(doc, out, overwrite=args.overwrite)
    return out


def main(args):
    name, modes = _name_modes(args.allocator)
    repo = sourcebuilds.parse_repos([f"{name}={args.repo}"])[name]
    settings = settings_from(args)
    scenarios = [s.name for s in session.choose_scenarios(catalog.load(ROOT), args.scenario,
                                                           controls=False)
                 if args.scenario or not s.is_control]  # the controls: in each run's cells
    if args.tags:
        every = releases.from_tags(repo, args.tags, args.order)
        select = " ".join(f"--tags {t}" for t in args.tags)
    else:
        every = releases.from_range(repo, args.range, args.every)
        select = f"--range {args.range} --every {args.every}"
    order = args.order if args.tags else "ancestry"
    mine = releases.dealt(every, *args.shard) if args.shard else every
    out = results.claim_out_dir(args.out, args.overwrite, views=not args.no_report)
    if not args.no_report:
        results.claim_views(results.history_paths(out), args.overwrite)
    built = build_releases(name, repo, modes, mine, args.jobs)
    hist = releases.block(name, repo, modes, scenarios, order, select, mine)
    if not built:
        print(historyview.text({"history": hist, "cells": [], "settings": {}}))
        plan = _plan(args, name, modes, scenarios, every, mine, settings)
        where = _record_unbuilt(args, out, hist, settings, plan) / "results.json"
        if not args.shard:
            raise InfraError(f"no release of this history builds: nothing to run (recorded "
                             f"in {where})")
        print(f"no release of this shard builds: recorded in {where}, for tlsleak merge")
        return EXIT_OK
    req = session.Request(
        settings=settings, scenarios=scenarios, allocators=[i for r in mine for i in r.ids or []],
        jobs=args.jobs, controls=not args.no_controls, out=out, build_dir=args.build_dir,
        argv=args.argv, built=built, overwrite=args.overwrite, report=not args.no_report,
        plan=_plan(args, name, modes, scenarios, every, mine, settings), history=hist)
    done = session.run(req, show=lambda d: print(historyview.text(d.doc), flush=True))
    print(f"results: {done.out / 'results.json'}  ({done.doc['duration_s']:.1f} s)", flush=True)
    failed = None if args.no_report else report_cmd.try_reports(done.doc, done.out,
                                                                overwrite=args.overwrite)
    if failed:
        print(f"tlsleak: report failed: {safe(failed)}", file=sys.stderr)
        return EXIT_INFRA
    if not args.no_report:
        print(f"chart: {done.out / 'plots' / 'history.png'}  table: "
              f"{done.out / 'history.html'}  {done.out / 'history.md'}")
    return done.exit_code
