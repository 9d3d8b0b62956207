"""The run on the terminal: one aligned row per cell, the counts, the notes on every cell that
is not what it should be, then what the run concludes (configurations not run, the baseline's
news, the controls, and why the exit code is what it is). `tlsleak run` and `tlsleak merge`
print it. Text from programs and results files goes through escape.terminal: shown, never
sent to the terminal."""

from __future__ import annotations

from typing import Sequence

from tlsleak import cellinfo, numtext
from tlsleak.escape import terminal as safe
from tlsleak.results import model
from tlsleak.vocab import CONTROL_EXPECT, CONTROL_MARK, EXIT_INCONCLUSIVE

_COLOURS = {"ok": "32", "leak": "1;31", "inconclusive": "33", "crash": "1;35",
            "timeout": "1;35", "error": "1;35"}
HEADERS = ("scenario", "config", "verdict", "B/thread +- CI/2 (signal)", "threads", "time")
_RIGHT = (False, False, False, True, True, True)


def _rate_text(cell: dict) -> str:
    text = numtext.rate_pm(cell.get("rate"))
    return text + " (%s)" % safe(cell["signal"]) if cell.get("rate") and cell.get("signal") \
        else text


def _threads_text(cell: dict) -> str:
    th = cell.get("threads") or {}
    fin, req = th.get("finished"), th.get("requested")
    return "%s/%s" % ("-" if fin is None else fin, "-" if req is None else req)


def _time_text(cell: dict) -> str:
    d = cell.get("duration_s")
    return "-" if d is None else "%.1f s" % d


def _scenario_text(cell: dict) -> str:
    mark = CONTROL_MARK.get(cell["role"])
    return "%s %s" % (safe(cell["scenario"]), mark) if mark else safe(cell["scenario"])


def _verdict_text(cell: dict) -> str:
    want = CONTROL_EXPECT.get(cell["role"])
    # A control that did not show what it must is marked.
    return cell["verdict"] + (" !" if want and cell["verdict"] != want else "")


def _row(cell: dict) -> tuple:
    return (_scenario_text(cell), safe(cell["config"]), _verdict_text(cell), _rate_text(cell),
            _threads_text(cell), _time_text(cell))


def counts_line(cells: Sequence[dict]) -> str:
    """'7 cells: 1 ok, 2 leak, ...' over every verdict."""
    counts = model.summary_counts(cells)
    text = "%d cell%s: " % (len(cells), "" if len(cells) == 1 else "s")
    return text + ", ".join("%d %s" % (n, safe(v)) for v, n in counts.items())


def notes(cells: Sequence[dict]) -> list[str]:
    """The reason of every cell that is not what it should be (controls that showed what they
    must are the expected case: no note for them), with what else grew."""
    out = []
    for c in cells:
        if c["verdict"] == CONTROL_EXPECT.get(c["role"], "ok") or not c["reason"]:
            continue
        grew = "; grew: " + ", ".join(c["attribution"]) if c.get("attribution") else ""
        out.append("  %s: %s: %s" % (safe(c["id"]), c["verdict"], safe(c["reason"] + grew)))
    return out


def process_lines(cells: Sequence[dict]) -> list[str]:
    """--exec: each process of a command that started more than one, judged on its own."""
    out = []
    for c in cells:
        if len(c.get("subjects") or ()) > 1:
            out.append("  %s processes:" % safe(c["id"]))
            out += ["    " + safe(line) for line in cellinfo.subject_lines(c)]
    return out


def render_table(cells: Sequence[dict], *, color: bool = False, details: bool = True) -> str:
    """The cells as one aligned text table (scenario, config, verdict, B/thread +- half the CI
    and the deciding signal, threads finished/requested, time), then a summary line of counts.
    Controls carry [ctl+] (must leak) or [ctl-] (must be ok), and "!" when they did not.
    `details`: list the reason of every cell that is not ok (controls: that missed) below, and
    the processes of an --exec command that started several.
    `color`: ANSI colours on the verdict."""
    rows = [_row(c) for c in cells]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(HEADERS)]

    def fmt(row, coloured=False):
        parts = [text.rjust(w) if right else text.ljust(w)
                 for text, w, right in zip(row, widths, _RIGHT)]
        code = _COLOURS.get(row[2].split()[0]) if coloured and color else None
        if code:
            parts[2] = "\x1b[%sm%s\x1b[0m" % (code, parts[2])
        return "  ".join(parts).rstrip()

    lines = [fmt(HEADERS), "  ".join("-" * w for w in widths)]
    lines += [fmt(r, True) for r in rows]
    lines.append(counts_line(cells))
    if any(c["role"] in CONTROL_MARK for c in cells):
        lines.append("[ctl+] positive control, must leak; [ctl-] negative control, must be ok; "
                     "! = it did not")
    return "\n".join(lines + (notes(cells) + process_lines(cells) if details else []))


def interrupted_text(doc: dict) -> str:
    """The footer of an interrupted run: how many of the planned cells finished."""
    planned = (doc.get("plan") or {}).get("selected")
    of = " of %d planned" % planned if planned is not None else ""
    return ("INTERRUPTED: %d%s cells finished; the rest did not run" % (len(doc["cells"]), of))


def baseline_lines(base: dict) -> list[str]:
    """What the baseline said of the run: each change by kind, known leaks in one line."""
    lines = ["NEW (not in the baseline): " + safe(i) for i in base["new"]]
    lines += ["fixed (leaked in the baseline, ok now): " + safe(i) for i in base["fixed"]]
    lines += ["changed verdict: " + safe(i) for i in base["changed"]]
    lines += ["no baseline for this version: " + safe(i)
              for i in base.get("no_baseline_for_version", [])]
    if base["known"]:
        lines.append("known leaks (explained in the baseline): "
                     + ", ".join(safe(i) for i in base["known"]))
    if not base["new"]:
        lines.append("baseline: no new leak")
    return lines


def conclusion(doc: dict) -> list[str]:
    """The lines after the table: interrupted, configurations not run, the baseline, failed
    controls, and last, when the run answered no leak but not for every cell, which cells
    were inconclusive (exit 4)."""
    lines = [interrupted_text(doc)] if doc["interrupted"] else []
    lines += ["unavailable: %s (%s): %s" % (safe(u["config"]), safe(u.get("id", "?")),
                                            safe(u["reason"])) for u in doc.get("unavailable", [])]
    if doc.get("baseline"):
        lines += baseline_lines(doc["baseline"])
    ctl = doc["controls"]
    if not ctl["passed"]:
        lines.append("detector self-check FAILED: " + "; ".join(safe(f) for f in ctl["failures"]))
        lines += ["  controls failed for %s: %s" % (safe(b["config"]), safe(b["why"]))
                  for b in ctl.get("invalid_configs", ())]
        lines += ["  cost of %s" % safe(t) for t in cellinfo.configuration_costs(doc)]
    if doc["exit_code"] == EXIT_INCONCLUSIVE:
        open_ = model.unjudged(doc["cells"])
        lines.append("exit %d: no leak found, but %d cell%s could not be judged (%s): each "
                     "says why above" % (
                         EXIT_INCONCLUSIVE, len(open_), "" if len(open_) == 1 else "s",
                         ", ".join(safe(c["id"]) for c in open_[:5])
                         + (", ..." if len(open_) > 5 else "")))
    return lines


def run_text(doc: dict, *, color: bool = False) -> str:
    """The table of a run's cells, then its conclusion."""
    return "\n".join([render_table(doc["cells"], color=color), *conclusion(doc)])
