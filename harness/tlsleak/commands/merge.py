"""tlsleak merge: the shards of one plan (`tlsleak run --shard K/N`) combined into one results
file, its JUnit XML and its reports (merge.py decides what belongs together)."""
import sys
from pathlib import Path

from tlsleak import cellinfo, merge, session
from tlsleak.vocab import EXIT_INFRA
from tlsleak.commands import report as report_cmd

HELP = "combine the results of shards (run --shard K/N) into one results file and its reports"


def add_parser(sub):
    p = sub.add_parser("merge", help=HELP)
    p.add_argument("results", metavar="RESULTS", nargs="+",
                   help="results files (or run folders) of the shards")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--no-report", action="store_true",
                   help="do not write plots/, summary.md and report.html")
    return p


def _file(path):
    p = Path(path)
    return p / "results.json" if p.is_dir() else p


def main(args):
    named = [(str(_file(p)), cellinfo.load_results(_file(p))) for p in args.results]
    out = session.check_out_dir(args.out)
    doc = merge.merge(named, args.argv)
    missing = merge.missing_shards(doc)
    print(f"merged {len(named)} file(s): {len(doc['cells'])} cells; "
          + ", ".join(f"{n} {v}" for v, n in doc["summary"].items()))
    if missing:
        print(f"incomplete: shard(s) {', '.join(missing)} not given")
    if not doc["controls"]["passed"]:
        print("detector self-check FAILED: " + "; ".join(doc["controls"]["failures"]))
    sys.stdout.flush()  # said before anything is written: a write failure hides nothing
    session.write_outputs(out, doc)  # the pair, or one line and exit 3 (a full disk)
    failed = None if args.no_report else report_cmd.try_reports(doc, out)
    print(f"results: {out / 'results.json'}  junit: {out / 'junit.xml'}")
    if failed:
        print(f"tlsleak: report failed: {failed}", file=sys.stderr)
        return EXIT_INFRA
    return doc["exit_code"]
