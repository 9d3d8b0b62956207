"""The run in GitHub-flavoured Markdown, in the form GitHub shows as a job summary
($GITHUB_STEP_SUMMARY): what leaked and how fast (with its confidence interval), against
which baseline, what changed (new, fixed, known), whether the controls proved the detector,
and where the run came from."""

from __future__ import annotations

import shlex

from tlsleak import cellinfo, numtext, table
from tlsleak.escape import md_code, md_text

FINDING_COLUMNS = ("cell", "verdict", "B/thread", "CI", "signal", "baseline", "why")


def md_table(header, rows) -> list[str]:
    """A GFM table: header row, delimiter row, one line per row. Each cell is Markdown
    already (md_text, md_code with table=True): nothing in it may end the row."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _finding_row(cell: dict) -> tuple:
    rate = cell.get("rate")
    ci = "%s..%s (%s)" % (numtext.num(rate["ci"][0]), numtext.num(rate["ci"][1]),
                          numtext.percent(rate["confidence"])) if rate else "-"
    status = (cell.get("baseline") or {}).get("status") or "-"
    return (md_code(cell["id"], table=True), cell["verdict"],
            numtext.num(rate["value"]) if rate else "-", ci,
            md_text(cell.get("signal") or "-"), md_text(status), md_text(cell["reason"]))


def _baseline_section(doc: dict) -> list[str]:
    changes = cellinfo.baseline_changes(doc)
    if not changes:
        return ["No baseline given: every finding counts."]
    lines = ["Baseline: %s" % md_code(doc["baseline"]["file"]), ""]
    lines += ["- **%s**: %s" % (words, ", ".join(md_code(i) for i in ids) or "none")
              for words, ids in changes]
    return lines


def _controls_section(doc: dict) -> list[str]:
    passed, sentence, failures = cellinfo.controls_status(doc)
    sentence = md_text(sentence)
    if passed is False:
        sentence = sentence.replace("FAILED", "**FAILED**", 1)
    return [sentence] + ["- %s" % md_text(f) for f in failures] + [
        "- cost of %s" % md_text(t) for t in cellinfo.configuration_costs(doc)]


def provenance(doc: dict) -> str:
    command = " ".join(shlex.quote(str(w)) for w in doc["command"])
    return "<sub>%s; command: %s</sub>" % (md_text(cellinfo.provenance_line(doc)),
                                           md_code(command))


def summary_markdown(doc: dict) -> str:
    """The job-summary Markdown of a results document. Its first line is the headline
    (`## tlsleak: ...`), by which tlsleak knows the file for its own (results.outdir)."""
    found = cellinfo.interesting_cells(doc)
    lines = ["## " + md_text(cellinfo.headline(doc)), ""]
    if doc.get("interrupted"):
        lines += ["**%s.**" % table.interrupted_text(doc), ""]
    lines += ["%s. %s." % (md_text(cellinfo.counts_text(doc)),
                           md_text(cellinfo.settings_text(doc))), ""]
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
            "%s: %s" % (md_code(u["config"]), md_text(u["reason"])) for u in missing)]
    lines += ["", provenance(doc), ""]
    return "\n".join(lines)
