"""tlsleak report: the views of a results file (plots/, summary.md, report.html); see
reportfiles.py. `tlsleak run` and `tlsleak merge` write them too, through try_reports()."""
import sys
from pathlib import Path

from tlsleak import cellinfo, interrupts
from tlsleak.vocab import EXIT_INFRA, EXIT_OK

HELP = "write the plots, summary.md and report.html of a results file"


def add_parser(sub):
    p = sub.add_parser("report", help=HELP)
    p.add_argument("results", metavar="RESULTS.json", help="a results file (tlsleak-results/2)")
    p.add_argument("--md", metavar="FILE",
                   help="the Markdown summary (default: summary.md beside RESULTS.json)")
    p.add_argument("--html", metavar="FILE",
                   help="the HTML page (default: report.html beside RESULTS.json)")
    p.add_argument("--plots", metavar="DIR", help="the plots (default: plots/ beside RESULTS.json)")
    return p


def try_reports(doc, out, **where):
    """Write the reports of `doc` into `out`; None, or what failed in one line (the results
    already written are untouched: the caller says it and exits 3 at the end)."""
    try:
        # matplotlib: paid only when reports are written
        reportfiles = interrupts.load("tlsleak.reportfiles")
        reportfiles.write_reports(doc, out, **where)
    except Exception as e:  # any failure of a view must not lose the run
        return f"{type(e).__name__}: {e}"
    return None


def main(args):
    doc = cellinfo.load_results(args.results)
    out = Path(args.results).resolve().parent
    failed = try_reports(doc, out, md_path=args.md, html_path=args.html, plots_dir=args.plots)
    if failed:
        print(f"tlsleak: report failed: {failed}", file=sys.stderr)
        return EXIT_INFRA
    reportfiles = interrupts.load("tlsleak.reportfiles")
    print(f"report: {args.html or out / reportfiles.REPORT_HTML}  "
          f"summary: {args.md or out / reportfiles.SUMMARY_MD}  "
          f"plots: {args.plots or out / reportfiles.PLOTS_DIR}")
    return EXIT_OK
