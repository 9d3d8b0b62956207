"""The run in GitHub-flavoured Markdown, in the form GitHub shows as a job summary
($GITHUB_STEP_SUMMARY): what leaked and how fast (with its confidence interval), against
which baseline, what changed (new, fixed, known), whether the controls proved the detector,
and where the run came from."""

from __future__ import annotations

import shlex

from . import cellinfo

FINDING_COLUMNS = ("cell", "verdict", "B/thread", "CI", "signal", "baseline", "why")


def md_escape(text) -> str:
    """Text safe inside a GFM table cell: pipes escaped, line breaks as spaces."""
    return " ".join(str(text).split()).replace("\\", "\\\\").replace("|", "\\|")


def md_table(header, rows) -> list[str]:
    """A GFM table: header row, delimiter row, one line per row (cells escaped)."""
    lines = ["| " + " | ".join(md_escape(h) for h in header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(md_escape(v) for v in row) + " |" for row in rows]
    return lines


def _finding_row(cell: dict) -> tuple:
    rate = cell.get("rate") or {}
    ci = "-"
    if rate:
        ci = "%s..%s (%s)" % (cellinfo.num(rate["ci_low"]), cellinfo.num(rate["ci_high"]),
                              cellinfo.percent(rate.get("confidence")))
    status = (cell.get("baseline") or {}).get("status") or "-"
    return ("`%s`" % cell.get("id", "?"), cell.get("verdict", "?"),
            cellinfo.num(rate.get("bytes_per_thread")) if rate else "-", ci,
            cell.get("signal") or "-", status, cell.get("reason", ""))


def headline(doc: dict) -> str:
    """One line: how many findings, how many new, and whether the controls passed."""
    found = [c for c in cellinfo.interesting_cells(doc) if not cellinfo.is_control(c)]
    base = doc.get("baseline")
    news = len(base.get("new") or []) if base else None
    controls = "controls passed" if (doc.get("controls") or {}).get("passed") \
        else "CONTROLS FAILED: findings not to be trusted"
    parts = ["%d finding%s in %d cells" % (len(found), "" if len(found) == 1 else "s",
                                          len(doc.get("cells") or []))]
    if news is not None:
        parts.append("%d new against the baseline" % news)
    if doc.get("interrupted"):
        parts.append("INTERRUPTED")
    return "## tlsleak: %s (%s)" % (", ".join(parts), controls)


def _counts(doc: dict) -> str:
    return ", ".join("%d %s" % (n, v) for v, n in (doc.get("summary") or {}).items())


def _baseline_section(doc: dict) -> list[str]:
    base = doc.get("baseline")
    if not base:
        return ["No baseline given: every finding counts."]
    lines = ["Baseline: `%s`" % base.get("file", "?"), ""]
    for kind, words in (("new", "new (the baseline does not expect them)"),
                        ("fixed", "fixed (leaked in the baseline, ok now)"),
                        ("changed", "changed verdict"), ("known", "known (explained)")):
        ids = base.get(kind) or []
        lines.append("- **%s**: %s" % (words, ", ".join("`%s`" % i for i in ids) or "none"))
    return lines


def _controls_section(doc: dict) -> list[str]:
    ctl = doc.get("controls") or {}
    cells = [c for c in doc.get("cells") or [] if cellinfo.is_control(c)]
    if not cells:
        return ["No control cells in this run (`--no-controls`): the detector was not checked."]
    missed = [c for c in cells if cellinfo.control_missed(c)]
    lines = ["%s: %d control cells, %d showed what they must." % (
        "Passed" if ctl.get("passed") else "**FAILED**", len(cells), len(cells) - len(missed))]
    lines += ["- %s" % md_escape(f) for f in ctl.get("failures") or []]
    return lines


def provenance(doc: dict) -> str:
    command = " ".join(shlex.quote(str(w)) for w in doc.get("command") or [])
    return "<sub>%s; command: <code>%s</code></sub>" % (
        md_escape(cellinfo.provenance_line(doc)), md_escape(command).replace("<", "&lt;"))


def summary_markdown(doc: dict) -> str:
    """The job-summary Markdown of a results document."""
    s = doc.get("settings") or {}
    found = cellinfo.interesting_cells(doc)
    lines = [headline(doc), "",
             "%s. %s threads per cell, %s alive at once, %s B blocks; Theil-Sen slope after "
             "%s warm-up, floor %s B/thread." % (
                 _counts(doc), s.get("threads", "?"), s.get("concurrency", "?"),
                 s.get("size", "?"), cellinfo.percent(s.get("warmup")),
                 cellinfo.num(s.get("floor"))), ""]
    lines += ["### Findings", ""]
    if found:
        lines += md_table(FINDING_COLUMNS, [_finding_row(c) for c in found])
    else:
        lines.append("Nothing leaked, crashed or surprised.")
    lines += ["", "### Against the baseline", ""] + _baseline_section(doc)
    lines += ["", "### Controls", ""] + _controls_section(doc)
    missing = doc.get("unavailable") or []
    if missing:
        lines += ["", "Not run (unavailable): " + "; ".join(
            "`%s`: %s" % (u.get("config"), md_escape(u.get("reason", ""))) for u in missing)]
    lines += ["", provenance(doc), ""]
    return "\n".join(lines)
