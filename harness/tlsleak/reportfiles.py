"""The files a run's views leave in its output folder: plots/ (grid and cell plots, PNG and
SVG), summary.md (the job summary) and report.html (the single-file page). One entry point
for `tlsleak run` (by default) and `tlsleak report`."""

from __future__ import annotations

from pathlib import Path

from . import html_report, plots, summary_md

PLOTS_DIR = "plots"
SUMMARY_MD = "summary.md"
REPORT_HTML = "report.html"


def write_reports(doc: dict, out_dir, *, md_path=None, html_path=None,
                  plots_dir=None) -> list[Path]:
    """Write the plots, summary.md and report.html of the results `doc`; by default into
    out_dir as plots/, summary.md and report.html. The page embeds the PNGs just drawn
    (each plot is drawn once). Returns the paths written."""
    out = Path(out_dir)
    plots_at = Path(plots_dir) if plots_dir else out / PLOTS_DIR
    md_at = Path(md_path) if md_path else out / SUMMARY_MD
    html_at = Path(html_path) if html_path else out / REPORT_HTML
    written = plots.render(doc, plots_at)
    for path, text in ((md_at, summary_md.summary_markdown(doc)),
                       (html_at, html_report.html_report(doc, plots.rendered_pngs(doc, plots_at)))):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
