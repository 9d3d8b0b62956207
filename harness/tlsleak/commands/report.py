"""tlsleak report: the views of a results file (plots/, summary.md, report.html); see
reportfiles.py. `tlsleak run` and `tlsleak merge` write them too, through try_reports()."""
import sys

from tlsleak import reportfiles, results
from tlsleak.vocab import EXIT_INFRA, EXIT_OK

HELP = "write the plots, summary.md and report.html of a results file"


def add_parser(sub):
    p = sub.add_parser("report", help=HELP)
    p.add_argument("results", metavar="RESULTS.json",
                   help="a results file (tlsleak-results/2), or the run folder holding one")
    p.add_argument("--md", metavar="FILE",
                   help="the Markdown summary (default: summary.md beside RESULTS.json)")
    p.add_argument("--html", metavar="FILE",
                   help="the HTML page (default: report.html beside RESULTS.json)")
    p.add_argument("--plots", metavar="DIR", help="the plots (default: plots/ beside RESULTS.json)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace files at those paths that tlsleak did not write")
    return p


def try_reports(doc, out, **where):
    """Write the reports of `doc` into `out`; None, or what failed in one line (the results
    already written are untouched: the caller says it and exits 3 at the end)."""
    try:
        reportfiles.write_reports(doc, out, **where)
    except Exception as e:  # any failure of a view must not lose the run
        return f"{type(e).__name__}: {e}"
    return None


def main(args):
    path = results.results_path(args.results)
    doc = results.load(path)
    out = path.resolve().parent
    where = results.view_paths(out, args.md, args.html, args.plots)
    results.claim_views(where, args.overwrite)  # refused before anything is drawn
    failed = try_reports(doc, out, md_path=args.md, html_path=args.html, plots_dir=args.plots,
                         overwrite=args.overwrite)
    if failed:
        print(f"tlsleak: report failed: {failed}", file=sys.stderr)
        return EXIT_INFRA
    print(f"report: {where['html']}  summary: {where['md']}  plots: {where['plots']}")
    return EXIT_OK
