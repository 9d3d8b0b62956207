"""The tlsleak command line: list, run (the matrix or --exec), with exit codes
0 no leak, 1 leak found, 2 usage or configuration error, 3 infrastructure failure, 130 interrupted.
"""
import argparse
import datetime as dt
import json
import os
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from tlsleak import (EXIT_INFRA, EXIT_INTERRUPTED, EXIT_LEAK, EXIT_OK, EXIT_USAGE, InfraError,
                     UsageError, __version__, baseline, catalog, configs, provenance, report,
                     runner, verdict)
from tlsleak.build import ROOT, Build



class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit 2."""

    def error(self, message):
        raise UsageError(message)


def _int_in(lo, hi):
    def parse(text):
        try:
            value = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not an integer")
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value} is out of range ({lo}..{hi})")
        return value
    return parse


def _float_in(lo, hi, lo_open=False):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number")
        if not (lo < value if lo_open else lo <= value) or not value <= hi or value != value:
            raise argparse.ArgumentTypeError(f"{text} is out of range ({lo}..{hi})")
        return value
    return parse


def _size(text):
    """A byte count with an optional K, M, G or T suffix (powers of 1024)."""
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    num, unit = (t[:-1], t[-1]) if t[-1:] in units else (t, "")
    try:
        value = int(float(num) * units[unit])
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a size (like 512M or 4G)")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' must be positive")
    return value


def _parser():
    p = _Parser(prog="tlsleak", description="Reproduce and judge memory leaks at thread-local "
                "storage teardown, across allocators and link modes.")
    p.add_argument("--version", action="version", version=f"tlsleak {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    ls = sub.add_parser("list", help="scenarios and allocator configurations")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.add_argument("--build-dir", help="CMake build tree (default: build/)")

    r = sub.add_parser("run", help="run the matrix (scenario x configuration) and judge each cell")
    r.add_argument("-s", "--scenario", action="append", default=[], metavar="SCENARIO",
                   help="scenario to run (repeatable; default: every non-fault scenario)")
    r.add_argument("-a", "--allocator", action="append", default=[], metavar="CONFIG",
                   help="configuration NAME[@VERSION][:MODE] (repeatable; default: all available)")
    r.add_argument("--threads", type=_int_in(10, 10_000_000), default=10000,
                   help="threads each cell creates and joins (default 10000)")
    r.add_argument("--concurrency", type=_int_in(1, 1024), default=1,
                   help="threads alive at once (default 1)")
    r.add_argument("--size", type=_int_in(1, 1 << 30), default=1024,
                   help="block size in bytes (default 1024)")
    r.add_argument("--interval", type=_int_in(1, 10_000_000), default=0,
                   help="threads between checkpoints (default threads/40)")
    r.add_argument("--floor", type=_float_in(0, 1 << 30, lo_open=True), default=128.0,
                   help="growth in bytes/thread below which a cell is not a leak (default 128)")
    r.add_argument("--stats-floor", type=_float_in(0, 1 << 30, lo_open=True), default=32.0,
                   help="the same floor for the allocator's own statistics, exact to the byte "
                        "(default 32)")
    r.add_argument("--signals", choices=("all", "os"), default="all",
                   help="what may decide a verdict: the OS's view and the allocator's "
                        "statistics (all, default), or the OS's view alone (os)")
    r.add_argument("--confidence", type=_float_in(0.5, 0.9999), default=0.95,
                   help="confidence level of the slope interval (default 0.95)")
    r.add_argument("--warmup", type=_float_in(0, 0.9), default=0.2,
                   help="fraction of threads ignored at the start (default 0.2)")
    r.add_argument("--no-sequential", dest="sequential", action="store_false",
                   help="run every thread of every cell instead of stopping a cell as soon as "
                        "its verdict is settled")
    r.add_argument("--budget", type=_float_in(0, 86400, lo_open=True), default=30.0,
                   metavar="SECONDS",
                   help="sequential: stop a cell after this long and judge what arrived "
                        "(default 30)")
    r.add_argument("--timeout", type=_float_in(0, 86400, lo_open=True), default=120.0,
                   help="seconds before a cell is killed as a timeout (default 120)")
    r.add_argument("--max-rss", type=_size, default=0, metavar="SIZE",
                   help="kill a cell past this RSS, as a runaway leak (default: half the "
                        "memory, shared by the jobs)")
    r.add_argument("--max-vsize", type=_size, default=0, metavar="SIZE",
                   help="kill a cell past this virtual size (default: 16 x the memory)")
    r.add_argument("--max-maps", type=_int_in(1, 1 << 31), default=0, metavar="N",
                   help="kill a cell past this many mappings (default: 80%% of vm.max_map_count)")
    r.add_argument("-j", "--jobs", type=_int_in(1, 64), default=os.cpu_count() or 1,
                   help="cells run at once (default: CPU count)")
    r.add_argument("--out", help="output folder (default: results/runs/<time>-<pid>)")
    r.add_argument("--json", action="store_true", help="print results.json instead of the table")
    r.add_argument("--no-controls", action="store_true",
                   help="do not add the positive and negative controls")
    r.add_argument("--baseline", metavar="FILE",
                   help="compare with a baseline: exit 1 only on leaks it does not know")
    r.add_argument("--write-baseline", metavar="FILE",
                   help="record this run as a baseline (keeps explanations already written)")
    r.add_argument("--source", action="append", default=[], metavar="NAME=DIR",
                   help="build NAME (mimalloc) from this source tree as an extra version")
    r.add_argument("--build-dir", help="CMake build tree (default: build/)")
    r.add_argument("--exec", dest="exec_argv", action="store_const", const=[],
                   help="-- CMD [ARGS...]: run your own program instead of the scenarios "
                        "(everything after --exec is its command line)")
    b = sub.add_parser("bench", help="calibrate the detector: false positives, power, speed")
    b.add_argument("--runs", type=_int_in(1, 100000), default=200,
                   help="healthy runs for the false-positive rate (default 200)")
    b.add_argument("--reps", type=_int_in(1, 1000), default=3,
                   help="runs per configuration and leak size for the power (default 3)")
    b.add_argument("--threads", type=_int_in(10, 10_000_000), default=10000,
                   help="thread budget per cell (default 10000)")
    b.add_argument("--healthy", action="append", metavar="SCENARIO",
                   default=["seed_thread_local", "tss_dtor_free", "pthread_key_dtor_free"],
                   help="scenarios known not to leak here, beside the negative controls")
    b.add_argument("-a", "--allocator", action="append", default=[], metavar="CONFIG",
                   help="configurations (default: every available one)")
    b.add_argument("--no-load", action="store_true", help="leave the other cores idle")
    b.add_argument("--no-readme", action="store_true", help="do not update README.md")
    b.add_argument("--build-dir", help="CMake build tree (default: build/)")
    return p


def cmd_bench(args, argv):
    from tlsleak import bench
    scenarios = catalog.load(ROOT)
    known = {s.name for s in scenarios}
    for name in args.healthy:
        if name not in known:
            raise UsageError(f"unknown scenario '{name}' (known: {', '.join(sorted(known))})")
    build, manifest, confs = _load(args)
    chosen = configs.select(confs, args.allocator)
    manifest = build.build([c.target for c in chosen] + ["bare_churn"])
    args.argv = argv
    _, table = bench.run(args, scenarios, chosen, manifest)
    print(table)
    return EXIT_OK


def _cmake_args(sources):
    dirs = {}
    for item in sources:
        name, sep, path = item.partition("=")
        if not sep or name != "mimalloc":
            raise UsageError(f"malformed --source '{item}' (accepted: mimalloc=DIR)")
        full = Path(path).expanduser().resolve()
        if not (full / "CMakeLists.txt").is_file():
            raise UsageError(f"--source {item}: {full} is not a source tree (no CMakeLists.txt)")
        dirs.setdefault(name, []).append(str(full))
    return [f"-DTLSLEAK_MIMALLOC_SOURCES={';'.join(dirs['mimalloc'])}"] if dirs else []


def _check_out_dir(out):
    """Refuse an output folder that cannot be written, before anything runs."""
    path = Path(out).resolve()
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"output folder {out} cannot be written")
    if path.exists() and not path.is_dir():
        raise UsageError(f"output folder {out} is a file")
    return path


def _load(args, cmake_args=()):
    build = Build(args.build_dir, cmake_args)
    manifest = build.configure()
    confs = configs.label_all([configs.Config.from_manifest(c) for c in manifest["configs"]])
    return build, manifest, confs


def cmd_list(args):
    scenarios = catalog.load(ROOT)
    _, _, confs = _load(args)
    if args.json:
        doc = {"scenarios": [s.__dict__ for s in scenarios],
               "configs": [{**c.__dict__} for c in confs]}
        print(json.dumps(doc, indent=2))
        return EXIT_OK
    width = max(len(s.name) for s in scenarios)
    print("Scenarios:")
    for s in scenarios:
        print(f"  {s.name:<{width}}  {s.role:<12} {s.summary}")
        print(f"  {'':<{width}}  {'':<12} mirrors: {'; '.join(s.refs) or 'no public report'}")
    width = max(len(c.label) for c in confs)
    print("\nAllocator configurations:")
    for c in confs:
        state = f"available   {c.library or ''}" if c.available else f"unavailable: {c.reason}"
        print(f"  {c.label:<{width}}  {c.id:<28} {state}")
    return EXIT_OK


def _plan(args, scenarios, confs, settings):
    """The cells of the matrix, controls included."""
    known = {s.name: s for s in scenarios}
    for name in args.scenario:
        if name not in known:
            raise UsageError(f"unknown scenario '{name}' (known: {', '.join(known)})")
    if args.scenario:
        chosen = [known[n] for n in dict.fromkeys(args.scenario)]
    else:
        chosen = [s for s in scenarios if s.role != "fault"]
    if not args.no_controls:
        chosen = [s for s in scenarios if s.is_control and s not in chosen] + chosen
    return [runner.scenario_cell(s, c, settings) for s in chosen for c in confs]


def _plan_exec(args, confs):
    argv = args.exec_argv
    wrong = [c.label for c in confs if c.mode not in ("system", "override")]
    if wrong:
        raise UsageError(f"--exec runs an unmodified program: only system and override "
                         f"configurations apply, not {', '.join(wrong)}")
    name = Path(argv[0]).name
    # The program's own allocator is not known in advance: checked only when it says.
    return [runner.Cell(id=f"{name}-{c.slug}", scenario=name, role="exec", config=c,
                        argv=argv, expect="") for c in confs]


def _controls(cells):
    failures = []
    for cell in cells:
        want = report.CONTROL_EXPECT.get(cell["role"])
        if want and cell["verdict"] != want:
            failures.append(f"{cell['id']}: expected {want}, got {cell['verdict']}")
    return {"passed": not failures, "failures": failures}


def _exit_code(cells, controls, interrupted, changes=None):
    if interrupted:
        return EXIT_INTERRUPTED
    if not controls["passed"] or any(c["verdict"] == "error" for c in cells):
        return EXIT_INFRA
    if changes is not None:  # with a baseline, only what it does not expect counts
        return EXIT_LEAK if changes["new"] else EXIT_OK
    findings = [c for c in cells if not c["role"].startswith("control-")
                and c["verdict"] in baseline.FINDINGS]
    return EXIT_LEAK if findings else EXIT_OK


def cmd_run(args, argv):
    settings = runner.Settings(
        threads=args.threads, concurrency=args.concurrency, size=args.size,
        interval=args.interval, warmup=args.warmup, floor=args.floor,
        stats_floor=args.stats_floor,
        deciding=verdict.DECIDING if args.signals == "all" else verdict.OS_SIGNALS,
        confidence=args.confidence, timeout_s=args.timeout, max_rss=args.max_rss,
        max_vsize=args.max_vsize, max_maps=args.max_maps, sequential=args.sequential,
        budget_s=args.budget).with_default_caps(args.jobs)
    if settings.concurrency > settings.threads:
        raise UsageError(f"--concurrency {settings.concurrency} exceeds --threads "
                         f"{settings.threads}")
    if settings.interval > settings.threads:
        raise UsageError(f"--interval {settings.interval} exceeds --threads {settings.threads}")
    out = _check_out_dir(args.out) if args.out else None
    base = baseline.load(args.baseline) if args.baseline else None
    if args.write_baseline:
        _check_out_dir(os.path.dirname(os.path.abspath(args.write_baseline)))
        if os.path.exists(args.write_baseline):
            baseline.load(args.write_baseline)  # refuse a broken one before running
    scenarios = catalog.load(ROOT)
    if args.exec_argv is None:  # fail on a bad scenario name before building anything
        _plan(args, scenarios, [], settings)
    build, manifest, confs = _load(args, _cmake_args(args.source))
    if args.exec_argv is not None:
        wanted = args.allocator or ["system"] + [c.id for c in confs
                                                 if c.mode == "override" and c.available]
        chosen = configs.select(confs, wanted)
        cells = _plan_exec(args, chosen)
    else:
        chosen = configs.select(confs, args.allocator)
        cells = _plan(args, scenarios, chosen, settings)
    unavailable = [c for c in confs if not c.available]

    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.monotonic()
    targets = [c.target for c in chosen]
    print(f"tlsleak: building {len(set(targets))} configuration(s)...", file=sys.stderr)
    manifest = build.build(targets, jobs=args.jobs)

    results, interrupted = _run_cells(cells, settings, args.jobs)
    order = {c.id: i for i, c in enumerate(cells)}
    results.sort(key=lambda r: order[r["id"]])
    controls = _controls(results)
    summary = report.summary_counts(results)
    changes = baseline.compare(results, base) if base is not None else None
    code = _exit_code(results, controls, interrupted, changes)
    doc = {
        "schema": "tlsleak-results/1",
        "harness": provenance.harness(),
        "command": ["tlsleak", *argv],
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - t0, 2),
        "interrupted": interrupted,
        "host": provenance.host(),
        "build": manifest.get("build", {}),
        "settings": settings.as_dict(),
        "cells": results,
        "unavailable": [{"config": c.label, "id": c.id, "reason": c.reason}
                        for c in unavailable],
        "summary": summary,
        "controls": controls,
        "exit_code": code,
    }
    if base is not None:
        doc["baseline"] = {"file": str(Path(args.baseline).resolve()), **changes}
    _stamp_provenance(doc)
    out = out or ROOT / "results" / "runs" / f"{started:%Y%m%d-%H%M%S}-{os.getpid()}"
    out.mkdir(parents=True, exist_ok=True)
    report.write_results(out / "results.json", doc)
    report.write_junit(out / "junit.xml", doc)
    if args.write_baseline and not interrupted:
        # Explanations already written survive: from the file being replaced, else --baseline.
        previous = (baseline.load(args.write_baseline) if os.path.exists(args.write_baseline)
                    else base)
        baseline.write(args.write_baseline, doc, previous)
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        n_s, n_c = len({c["scenario"] for c in results}), len({c["config"] for c in results})
        print(f"tlsleak {__version__}: {n_s} scenario(s) x {n_c} configuration(s); "
              f"{settings.threads} threads per cell, {settings.concurrency} alive at once, "
              f"{settings.size} B blocks; Theil-Sen slope after {settings.warmup:.0%} warm-up, "
              f"{settings.confidence:.0%} CI, floor {settings.floor:g} B/thread "
              f"({settings.stats_floor:g} for allocator statistics)\n")
        print(report.render_table(results))
        for c in unavailable:
            print(f"unavailable: {c.label} ({c.id}): {c.reason}")
        if changes is not None:
            _print_changes(changes)
        if not controls["passed"]:
            print("detector self-check FAILED: " + "; ".join(controls["failures"]))
        print(f"results: {out / 'results.json'}  junit: {out / 'junit.xml'}  "
              f"({doc['duration_s']:.1f} s)")
    return code


def _print_changes(changes):
    for cid in changes["new"]:
        print(f"NEW (not in the baseline): {cid}")
    for cid in changes["fixed"]:
        print(f"fixed (leaked in the baseline, ok now): {cid}")
    for cid in changes["changed"]:
        print(f"changed verdict: {cid}")
    if changes["known"]:
        print(f"known leaks (explained in the baseline): {', '.join(changes['known'])}")
    if not changes["new"]:
        print("baseline: no new leak")


def _stamp_provenance(doc):
    """Each cell carries where it came from, so it still says so when copied out alone."""
    b, h = doc["build"], doc["host"]
    common = {
        "compiler": {"c": b.get("c_compiler"), "cxx": b.get("cxx_compiler"),
                     "c_flags": b.get("c_flags"), "cxx_flags": b.get("cxx_flags"),
                     "build_type": b.get("build_type")},
        "os": f"{h['os']} ({h['kernel']}, {h['machine']})",
        "libc": h["libc"],
        "harness": doc["harness"],
    }
    for cell in doc["cells"]:
        alloc = cell["allocator"]
        alloc["origin"] = provenance.package_of(alloc["library"]) or alloc["origin"]
        cell["provenance"] = common


def _run_cells(cells, settings, jobs):
    """Run every cell, jobs at a time. An interrupt (SIGINT, SIGTERM) kills the running
    programs and keeps only the cells that had finished."""
    def on_term(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    pool = ThreadPoolExecutor(max_workers=jobs)
    futures, interrupted = [], False
    try:
        futures = [pool.submit(runner.run_cell, c, settings) for c in cells]
        for done, fut in enumerate(as_completed(futures), 1):
            res = fut.result()
            rate = res["rate"]
            shown = f" {rate['bytes_per_thread']:.0f} B/thread" if rate else ""
            print(f"[{done:>3}/{len(cells)}] {res['id']}: {res['verdict']}{shown} "
                  f"({res['duration_s']:.1f} s)", file=sys.stderr)
    except KeyboardInterrupt:
        interrupted = True
        runner.LIVE.kill_all()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        signal.signal(signal.SIGTERM, previous)
    finished = [f.result() for f in futures if f.done() and not f.cancelled()]
    return [r for r in finished if not r.get("interrupted")], interrupted


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        # Everything after --exec belongs to the user's program, untouched by our parser.
        own, exec_argv = argv, None
        if "--exec" in argv:
            at = argv.index("--exec")
            own, exec_argv = argv[:at + 1], argv[at + 1:]
        args = _parser().parse_args(own)
        if exec_argv is not None:
            args.exec_argv = exec_argv[1:] if exec_argv[:1] == ["--"] else exec_argv
            if not args.exec_argv:
                raise UsageError("--exec needs a command: tlsleak run --exec -- CMD [ARGS...]")
        if args.command == "list":
            return cmd_list(args)
        if args.command == "bench":
            return cmd_bench(args, argv)
        return cmd_run(args, argv)
    except UsageError as e:
        print(f"tlsleak: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except InfraError as e:
        print(f"tlsleak: infrastructure failure: {e}", file=sys.stderr)
        return EXIT_INFRA
    except KeyboardInterrupt:
        print("tlsleak: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:  # the harness itself failed: say so in one line, exit 3
        if os.environ.get("TLSLEAK_DEBUG"):
            raise
        print(f"tlsleak: internal error: {type(e).__name__}: {e} (TLSLEAK_DEBUG=1 shows where)",
              file=sys.stderr)
        return EXIT_INFRA
