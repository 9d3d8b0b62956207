"""tlsleak bench: calibrate the detector (false positives, power, speed); see bench.py."""
from tlsleak import UsageError, bench, catalog, configs, session
from tlsleak.vocab import EXIT_OK
from tlsleak.build import ROOT
from tlsleak.commands.options import add_param

HELP = "calibrate the detector: false positives, power, speed"


def add_parser(sub):
    b = sub.add_parser("bench", help=HELP)
    add_param(b, "bench_runs")
    add_param(b, "bench_reps")
    add_param(b, "threads", help="thread budget per cell (default 10000)")
    b.add_argument("--healthy", action="append", metavar="SCENARIO",
                   default=["seed_thread_local", "tss_dtor_free", "pthread_key_dtor_free"],
                   help="scenarios known not to leak here, beside the negative controls")
    b.add_argument("-a", "--allocator", action="append", default=[], metavar="CONFIG",
                   help="configurations (default: every available one)")
    b.add_argument("--no-load", action="store_true", help="leave the other cores idle")
    b.add_argument("--update-readme", action="store_true",
                   help="write the figures into README.md's bench section")
    b.add_argument("--build-dir", help="CMake build tree (default: build/)")
    return b


def main(args):
    scenarios = catalog.load(ROOT)
    known = {s.name for s in scenarios}
    for name in args.healthy:
        if name not in known:
            raise UsageError(f"unknown scenario '{name}' (known: {', '.join(sorted(known))})")
    build, manifest, confs = session.load(args.build_dir)
    chosen = configs.select(confs, args.allocator)
    manifest = build.build([c.target for c in chosen] + ["bare_churn"])
    opts = bench.Options(runs=args.bench_runs, reps=args.bench_reps, threads=args.threads,
                         healthy=args.healthy, load=not args.no_load,
                         update_readme=args.update_readme, argv=args.argv)
    _, table, out = bench.run(opts, scenarios, chosen, manifest)
    print(table)
    print(f"bench: {out / 'bench.json'}  {out / 'bench.md'}"
          + ("  (README.md's table rewritten)" if args.update_readme else ""))
    return EXIT_OK
