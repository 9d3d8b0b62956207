"""The run in GitHub-flavoured Markdown, in the form GitHub shows as a job summary
($GITHUB_STEP_SUMMARY): what leaked and how fast (with its confidence interval), against
which baseline, what changed (new, fixed, known), whether the controls proved the detector,
and where the run came from."""

from __future__ import annotations

import shlex

from . import cellinfo, report
from .numtext import num, percent

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
        ci = "%s..%s (%s)" % (num(rate["ci"][0]), num(rate["ci"][1]),
                              percent(rate.get("confidence")))
    status = (cell.get("baseline") or {}).get("status") or "-"
    return ("`%s`" % cell.get("id", "?"), cell.get("verdict", "?"),
            num(rate.get("value")) if rate else "-", ci,
            cell.get("signal") or "-", status, cell.get("reason", ""))


def _baseline_section(doc: dict) -> list[str]:
    changes = cellinfo.baseline_changes(doc)
    if not changes:
        return ["No baseline given: every finding counts."]
    lines = ["Baseline: `%s`" % doc["baseline"].get("file", "?"), ""]
    lines += ["- **%s**: %s" % (words, ", ".join("`%s`" % i for i in ids) or "none")
              for words, ids in changes]
    return lines


def _controls_section(doc: dict) -> list[str]:
    passed, sentence, failures = cellinfo.controls_status(doc)
    if passed is False:
        sentence = sentence.replace("FAILED", "**FAILED**", 1)
    return [md_escape(sentence)] + ["- %s" % md_escape(f) for f in failures]


def provenance(doc: dict) -> str:
    command = " ".join(shlex.quote(str(w)) for w in doc.get("command") or [])
    return "<sub>%s; command: <code>%s</code></sub>" % (
        md_escape(cellinfo.provenance_line(doc)), md_escape(command).replace("<", "&lt;"))


def summary_markdown(doc: dict) -> str:
    """The job-summary Markdown of a results document."""
    found = cellinfo.interesting_cells(doc)
    lines = ["## " + cellinfo.headline(doc), ""]
    if doc.get("interrupted"):
        lines += ["**%s.**" % report.interrupted_text(doc), ""]
    lines += ["%s. %s." % (cellinfo.counts_text(doc), cellinfo.settings_text(doc)), ""]
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
