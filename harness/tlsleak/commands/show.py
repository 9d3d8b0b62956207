"""tlsleak show: one cell of a results file on the terminal (show.py renders it)."""
from tlsleak import results, session
from tlsleak.vocab import EXIT_OK
from tlsleak import show as view

HELP = "one cell in detail: verdict, signals, series, provenance, how to reproduce it"


def add_parser(sub):
    p = sub.add_parser("show", help=HELP)
    p.add_argument("cell", metavar="CELL", help="a cell id, or a part of exactly one")
    p.add_argument("results", metavar="RESULTS.json", nargs="?",
                   help="a results file, or a run folder (default: results/runs/latest)")
    return p


def main(args):
    doc = results.load(args.results or session.LATEST)
    print(view.show(doc, args.cell))
    return EXIT_OK
