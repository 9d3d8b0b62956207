"""tlsleak merge: the shards of one plan (`tlsleak run --shard K/N`) combined into one results
file, its JUnit XML and its reports (merge.py decides what belongs together)."""
import sys

from tlsleak import merge, results, table
from tlsleak.escape import terminal as safe
from tlsleak.vocab import EXIT_INFRA
from tlsleak.commands import report as report_cmd

HELP = "combine the results of shards (run --shard K/N) into one results file and its reports"


def add_parser(sub):
    p = sub.add_parser("merge", help=HELP)
    p.add_argument("results", metavar="RESULTS", nargs="+",
                   help="results files (or run folders) of the shards")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the results and views already in --out (another run's, or "
                        "one of the inputs)")
    p.add_argument("--no-report", action="store_true",
                   help="do not write plots/, summary.md and report.html")
    return p


def main(args):
    paths = [results.results_path(p) for p in args.results]
    named = [(str(p), results.load(p)) for p in paths]
    out = results.claim_out_dir(args.out, args.overwrite, inputs=paths,
                                views=not args.no_report)
    doc = merge.merge(named, args.argv)
    missing = merge.missing_shards(doc)
    print(f"merged {len(named)} file(s): {table.counts_line(doc['cells'])}")
    if missing:
        print(f"incomplete: shard(s) {', '.join(safe(m) for m in missing)} not given")
    for line in table.conclusion(doc):
        print(line)
    sys.stdout.flush()  # said before anything is written: a write failure hides nothing
    results.write_outputs(out, doc)  # the pair, or one line and exit 3 (a full disk)
    failed = None if args.no_report else report_cmd.try_reports(doc, out,
                                                                overwrite=args.overwrite)
    print(f"results: {out / 'results.json'}  junit: {out / 'junit.xml'}")
    if failed:
        print(f"tlsleak: report failed: {failed}", file=sys.stderr)
        return EXIT_INFRA
    return doc["exit_code"]
