"""The files a run's views leave in its output folder: plots/ (grid and cell plots, PNG and
SVG), summary.md (the job summary) and report.html (the single-file page). One entry point
for `tlsleak run` (by default), `tlsleak merge` and `tlsleak report`. Where they go and what
they may replace is results.outdir's rule."""

from __future__ import annotations

from pathlib import Path

import base64

from tlsleak import atomic, historyplot, historyview, html_report, plots, results, summary_md


def write_reports(doc: dict, out_dir, *, md_path=None, html_path=None, plots_dir=None,
                  overwrite=False) -> list[Path]:
    """Write the plots, summary.md and report.html of the results `doc`; by default into
    out_dir as plots/, summary.md and report.html. A path taken by something tlsleak did not
    write is refused (UsageError) unless `overwrite`. The page embeds the PNGs just drawn
    (each plot is drawn once). Returns the paths written."""
    where = results.view_paths(out_dir, md_path, html_path, plots_dir)
    results.claim_views(where, overwrite)
    written = plots.render(doc, where["plots"])
    pngs = plots.rendered_pngs(doc, where["plots"])
    for path, text in ((where["md"], summary_md.summary_markdown(doc)),
                       (where["html"], html_report.html_report(doc, pngs))):
        written.append(atomic.write_text(path, text))
    if doc.get("history"):
        written += write_history(doc, out_dir, where["plots"], overwrite)
    return written


def write_history(doc: dict, out_dir, plots_dir, overwrite=False) -> list[Path]:
    """A release history's views (`tlsleak history`): plots/history.{png,svg} and
    history.md and history.html beside the results."""
    where = results.history_paths(out_dir)
    results.claim_views(where, overwrite)
    written = historyplot.render(doc, plots_dir)
    png = base64.b64encode(written[0].read_bytes()).decode()
    for kind, text in (("md", historyview.markdown(doc)), ("html", historyview.page(doc, png))):
        written.append(atomic.write_text(where[kind], text))
    return written
