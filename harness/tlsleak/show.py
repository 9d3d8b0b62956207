"""One cell for the terminal: verdict, reasoning, every signal's trend, the series as a compact
table (warm-up and settle point marked) and the command that reproduces it. Every text from
the program or the results file goes through escape.terminal: a program's escape codes are
shown, never sent."""

from __future__ import annotations

from tlsleak import UsageError, cellinfo, numtext, thinning
from tlsleak.escape import terminal as safe, terminal_lines
from tlsleak.signals import unit as signal_unit

MAX_ROWS = 24  # longer series are shown evenly thinned, first and last rows always kept


def _value(name: str, v) -> str:
    if v is None:
        return "-"
    return numtext.size(v) if signal_unit(name) == "B" else safe(v)


def series_table(doc: dict, cell: dict) -> list[str]:
    """The checkpoints as aligned columns: threads done, then each checkpoint signal; rows in
    the warm-up carry 'w', the row where the verdict settled '<- settled'."""
    names = [n for n in cellinfo.signal_names(cell) if n != "external_rss"]
    cps = [c for c in cell.get("checkpoints") or [] if isinstance(c.get("done"), int)]
    if not cps:
        return ["(no checkpoints)"]
    warm = cellinfo.warmup_end(doc, cell, [c["done"] for c in cps])
    settled = cellinfo.settled_at(cell)
    header = ["done", ""] + [safe(n) for n in names]
    rows = []
    for i in thinning.evenly(len(cps), MAX_ROWS):
        cp = cps[i]
        mark = "w" if warm is not None and cp["done"] < warm else ""
        row = [str(cp["done"]), mark] + [_value(n, cp.get(n)) for n in names]
        if settled is not None and cp["done"] == settled:
            row.append("<- settled")
        rows.append(row)
    widths = [max(len(r[i]) for r in [header] + rows if i < len(r)) for i in range(len(header))]
    out = ["  ".join(t.rjust(w) for t, w in zip(header, widths)).rstrip()]
    for r in rows:
        cells = [t.rjust(w) for t, w in zip(r, widths)] + r[len(widths):]
        out.append("  ".join(cells).rstrip())
    if len(rows) < len(cps):
        out.append("(%d of %d checkpoints shown)" % (len(rows), len(cps)))
    out.append("w = warm-up, dropped before the fit (threads done < %s)" % numtext.num(warm))
    return out


def signals_lines(cell: dict) -> list[str]:
    out = []
    for name in cellinfo.signal_names(cell) or list(cell.get("signals") or {}):
        j = (cell.get("signals") or {}).get(name) or {}
        mark = "*" if name == cell.get("signal") else " "
        out.append("%s %-13s %-12s %s" % (mark, safe(name), j["verdict"],
                                          numtext.rate(j["rate"])))
    return out


def show_cell(doc: dict, cell: dict) -> str:
    """The text rendering of one cell."""
    lines = ["%s: %s" % (safe(cell["id"]), cell["verdict"].upper()), "  " + safe(cell["reason"])]
    if cell.get("attribution"):
        lines.append("  also grew: %s" % safe(", ".join(cell["attribution"])))
    if cell.get("subjects"):
        lines += ["", "processes (each that finished threads judged on its own):"]
        lines += ["  " + safe(s) for s in cellinfo.subject_lines(cell, width=200)]
    lines += ["", "signals (* decided the verdict):"] + ["  " + s for s in signals_lines(cell)]
    lines += ["", "series:"] + ["  " + s for s in series_table(doc, cell)]
    lines += ["", "provenance:"]
    lines += ["  %-13s %s" % (k, safe(v)) for k, v in cellinfo.cell_provenance(cell)]
    lines += ["", "reproduce:", "  " + safe(cellinfo.command_line(cell)),
              "  " + safe(cellinfo.tlsleak_command(doc, cell))]
    if cell.get("stderr_tail"):
        lines += ["", "stderr (tail):"] + ["  " + s for s in terminal_lines(cell["stderr_tail"])]
    return "\n".join(lines)


def show(doc: dict, query: str) -> str:
    """The text of the cell `query` names (its id, or a part of one id); a UsageError (one
    line) when it names none or several."""
    found = cellinfo.matching_cells(doc, query)
    if len(found) == 1:
        return show_cell(doc, found[0])
    if not found:
        raise UsageError("no cell matches %r (%d cells; `tlsleak list` names the scenarios)"
                         % (query, len(doc.get("cells") or [])))
    names = ", ".join(safe(c["id"]) for c in found[:5])
    raise UsageError("%r matches %d cells (%s%s): give more of the id"
                     % (query, len(found), names, ", ..." if len(found) > 5 else ""))
