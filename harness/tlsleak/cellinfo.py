"""What the reports (plots, summary.md, report.html, show) read from a results document.

One home for the questions every view asks of a cell: does it matter (a finding or a
surprise), which controls sit beside it, where its warm-up ends and its verdict settled, each
signal's series, and the command that reproduces it. Pure functions over the results dict
(docs/RESULTS.md); nothing here runs or judges anything.
"""

from __future__ import annotations

import shlex

from tlsleak.checkpoints import series as _cp_series
from tlsleak.numtext import num, percent, rate_pm
from tlsleak.results.model import target_of
from tlsleak.vocab import CONTROL_EXPECT, CONTROL_NOTE, EXEC, STOPS, is_control as _role_is_control
from tlsleak.stats import DECIDING, EXTERNAL, samples_to_series

# Verdict colours shared by the grid plot and the HTML page (colour-blind-safe hues).
VERDICT_COLOURS = {"ok": "#a6d96a", "leak": "#d7191c", "inconclusive": "#fdae61",
                   "crash": "#7b3294", "timeout": "#c2a5cf", "error": "#636363"}
MISSING_COLOUR = "#f0f0f0"
# Verdicts on which white text reads better than black.
DARK_VERDICTS = frozenset({"leak", "crash", "error"})

# Baseline statuses that are news (a cell the baseline did not expect to look like this).
NEWS = ("new", "fixed", "changed")
# Beside the observed allocator when its check could only compare files (DESIGN.md
# "Checkpoint line format", owns_by).
OWNS_BY_FILE = " (checked by file: the allocator has no call that claims a block)"


def is_control(cell: dict) -> bool:
    return _role_is_control(cell.get("role"))


def scenario_label(cell: dict) -> str:
    """The scenario's name, with what a control must show: 'control_leak (must leak)'."""
    note = CONTROL_NOTE.get(cell.get("role", ""))
    return "%s (%s)" % (cell.get("scenario", "?"), note) if note else cell.get("scenario", "?")


def control_missed(cell: dict) -> bool:
    """A control that did not show what it must (the detector is not to be trusted)."""
    want = CONTROL_EXPECT.get(cell.get("role", ""))
    return want is not None and cell.get("verdict") != want


def is_interesting(cell: dict) -> bool:
    """A finding or a surprise: any non-ok verdict outside the controls, a control that missed,
    or a cell whose baseline status is news (new, fixed, changed)."""
    if is_control(cell):
        return control_missed(cell)
    status = (cell.get("baseline") or {}).get("status")
    return cell.get("verdict") != "ok" or status in NEWS


def interesting_cells(doc: dict) -> list[dict]:
    return [c for c in doc.get("cells") or [] if is_interesting(c)]


def controls_for(doc: dict, cell: dict) -> list[dict]:
    """The control cells beside `cell`: the flat control first (the picture a leak is compared
    with), then the leaking one; those of the same configuration when the run has them."""
    controls = [c for c in doc.get("cells") or [] if is_control(c) and c is not cell
                and c.get("target") == cell.get("target")]  # a merge may hold several
    same = [c for c in controls if c.get("config") == cell.get("config")]
    order = {"control-flat": 0, "control-leak": 1}
    return sorted(same or controls, key=lambda c: order.get(c.get("role"), 2))


def flat_control(doc: dict, cell: dict) -> dict | None:
    found = [c for c in controls_for(doc, cell) if c.get("role") == "control-flat"]
    return found[0] if found else None


def cells_to_plot(doc: dict) -> list[dict]:
    """The interesting cells and the controls beside them, each once, in run order."""
    wanted = {id(c) for c in interesting_cells(doc)}
    for c in interesting_cells(doc):
        wanted.update(id(k) for k in controls_for(doc, c))
    return [c for c in doc.get("cells") or [] if id(c) in wanted]


def find_cell(doc: dict, query: str) -> dict | None:
    """The cell whose id is `query`, else the only one whose id contains it."""
    found = matching_cells(doc, query)
    return found[0] if len(found) == 1 else None


def matching_cells(doc: dict, query: str) -> list[dict]:
    """[the cell whose id is `query`], else every cell whose id contains it."""
    cells = doc.get("cells") or []
    exact = [c for c in cells if c.get("id") == query]
    return exact or [c for c in cells if query in str(c.get("id", ""))]


# ---------------------------------------------------------------------------------------------
# series


def signal_names(cell: dict) -> list[str]:
    """Judged signals that have points: the deciding one first, then the other deciding ones,
    then the rest in recorded order."""
    names = [n for n in (cell.get("signals") or {}) if series(cell, n)[0]]
    first = [cell["signal"]] if cell.get("signal") in names else []
    rest = sorted((n for n in names if n not in first),
                  key=lambda n: (n not in DECIDING, names.index(n)))
    return first + rest


def series(cell: dict, name: str) -> tuple[list[float], list[float]]:
    """(threads done, value) of one signal; external_rss is mapped onto threads done by the
    checkpoints' receive times, as the verdict did."""
    cps = cell.get("checkpoints") or []
    if name == EXTERNAL:
        timeline = [(c.get("t_recv"), c.get("done")) for c in cps]
        return samples_to_series(cell.get("samples") or [], timeline)
    return _cp_series(cps, name)


def warmup_end(doc: dict, cell: dict, x) -> float | None:
    """Threads done below which the verdict dropped the points of a series as warm-up:
    settings.warmup x the series' final x (`x`: its threads done)."""
    frac = settings_of(doc, cell).get("warmup")
    if frac is None or len(x) == 0:
        return None
    return frac * max(x)


def settled_at(cell: dict) -> float | None:
    """Threads done when sequential judging settled the verdict (the cell's `settled_at`)."""
    return cell.get("settled_at")


# ---------------------------------------------------------------------------------------------
# words


def command_line(cell: dict) -> str:
    """The exact program command of the cell, with the environment the harness set (the
    preload variable among it), ready to paste into a POSIX shell."""
    env = ["%s=%s" % (k, shlex.quote(str(v))) for k, v in sorted((cell.get("env") or {}).items())]
    argv = [shlex.quote(str(a)) for a in cell.get("command") or []]
    return " ".join((["env"] + env if env else []) + argv)


# An --exec cell's processes, as every view lists them (each view escapes the text).
SUBJECT_COLUMNS = ("pid", "command", "threads finished", "counted by", "verdict", "rate",
                   "largest gap")
_COUNTED_BY = {"probe": "probe", "tids": "thread ids (not counted)"}


def subject_rows(cell: dict) -> list[tuple]:
    """An --exec cell's processes (its `subjects`), the judged ones first: (pid, command,
    threads finished, counted by, verdict, rate, largest sampling gap), as text."""
    rows = []
    for s in cell.get("subjects") or []:
        gap = s.get("max_gap_s")
        rows.append((str(s.get("pid", "?")), s.get("command") or "?",
                     str(s.get("threads_finished", 0)), _COUNTED_BY.get(s.get("counted_by"), "-"),
                     s.get("verdict") or "recorded, not judged",
                     rate_pm(s.get("rate"), column_unit=None) if s.get("verdict") else "-",
                     "-" if gap is None else "%.0f ms" % (gap * 1000)))
    return rows


def subject_lines(cell: dict, width: int = 70) -> list[str]:
    """One line per process of an --exec cell: 'pid 123 prog --churn: 10000 threads (probe),
    leak 2048 +- 3 B/thread, largest sampling gap 12 ms'; processes that finished no thread
    only counted."""
    rows = subject_rows(cell)
    judged = [r for r in rows if r[3] != "-"]
    lines = []
    for pid, command, threads, by, verdict, rate, gap in judged:
        cmd = command if len(command) <= width else command[:width - 3] + "..."
        lines.append("pid %s %s: %s threads (%s), %s %s, largest sampling gap %s"
                     % (pid, cmd, threads, by, verdict, rate, gap))
    if len(rows) > len(judged):
        lines.append("%d process(es) that finished no thread (recorded, not judged)"
                     % (len(rows) - len(judged)))
    return lines


def part_of(doc: dict, cell: dict) -> dict:
    """What the cell's own run said of itself: its part, in a merge of several targets
    (results `parts`); else the document."""
    for part in doc.get("parts") or []:
        if part["target"]["label"] == cell.get("target"):
            return part
    return doc


def settings_of(doc: dict, cell: dict) -> dict:
    return part_of(doc, cell).get("settings") or {}


def tlsleak_command(doc: dict, cell: dict) -> str:
    """The tlsleak command that runs this one cell again with its run's settings, on its
    platform: a scenario under its configuration, or (an --exec cell) the program's own
    command under it."""
    s = settings_of(doc, cell)
    exec_cell = cell.get("role") == EXEC
    words = ["./tlsleak", "run"] + ([] if exec_cell else ["-s", cell.get("scenario", "?")])
    words += ["-a", cell.get("config", "?")]
    platform = target_of(part_of(doc, cell)).get("platform", "native")
    if platform != "native":
        words += ["--platform", platform]
    options = (("--threads", "threads"), ("--floor", "floor")) if exec_cell else (
        ("--threads", "threads"), ("--concurrency", "concurrency"), ("--size", "size"),
        ("--interval", "interval"), ("--floor", "floor"))
    for opt, key in options:
        if s.get(key) is not None:
            words += [opt, "%g" % s[key]]
    if exec_cell:
        words += ["--exec", "--", *(cell.get("command") or ["?"])]
    return " ".join(shlex.quote(str(w)) for w in words)


def headline(doc: dict) -> str:
    """One line: how many findings, how many new, and whether the controls passed."""
    found = [c for c in interesting_cells(doc) if not is_control(c)]
    base = doc.get("baseline")
    news = len(base.get("new") or []) if base else None
    passed = controls_status(doc)[0]
    controls = {True: "controls passed", None: "no controls",
                False: "CONTROLS FAILED: findings not to be trusted"}[passed]
    parts = ["%d finding%s in %d cells" % (len(found), "" if len(found) == 1 else "s",
                                          len(doc.get("cells") or []))]
    if news is not None:
        parts.append("%d new against the baseline" % news)
    if doc.get("interrupted"):
        parts.append("INTERRUPTED")
    return "tlsleak: %s (%s)" % (", ".join(parts), controls)


def settings_text(doc: dict) -> str:
    """The run's settings in one sentence (one per target, in a merge of several)."""
    if doc.get("parts"):
        return "; ".join("%s: %s" % (p["target"]["label"], _settings_words(p["settings"]))
                         for p in doc["parts"])
    return _settings_words(doc.get("settings") or {})


def _settings_words(s: dict) -> str:
    return ("%s threads per cell, %s alive at once, %s B blocks, a checkpoint every %s threads; "
            "Theil-Sen slope after %s warm-up, floor %s B/thread" % (
                s.get("threads", "?"), s.get("concurrency", "?"), s.get("size", "?"),
                s.get("interval", "?"), percent(s.get("warmup")), num(s.get("floor"))))


def counts_text(doc: dict) -> str:
    return ", ".join("%d %s" % (n, v) for v, n in (doc.get("summary") or {}).items())


# What changed against the baseline: (key of the results' "baseline" block, words).
BASELINE_KINDS = (("new", "new (the baseline does not expect them)"),
                  ("fixed", "fixed (leaked in the baseline, ok now)"),
                  ("changed", "changed verdict"), ("known", "known (explained)"))


def baseline_changes(doc: dict) -> list[tuple[str, list[str]]]:
    """[(words, cell ids)] per kind of change; [] without a baseline."""
    base = doc.get("baseline")
    return [(words, list(base.get(kind) or [])) for kind, words in BASELINE_KINDS] if base else []


def controls_status(doc: dict) -> tuple[bool | None, str, list[str]]:
    """(passed, one sentence, the failures): passed is None when the run had no controls."""
    ctl = doc.get("controls") or {}
    cells = [c for c in doc.get("cells") or [] if is_control(c)]
    if not cells:
        return None, "No control cells in this run (--no-controls): the detector was not " \
            "checked.", []
    missed = sum(control_missed(c) for c in cells)
    passed = bool(ctl.get("passed"))
    return passed, "%s: %d control cells, %d showed what they must." % (
        "Passed" if passed else "FAILED", len(cells), len(cells) - missed), \
        list(ctl.get("failures") or [])


def _rate(cell: dict) -> float | None:
    return (cell.get("rate") or {}).get("value")


def configuration_costs(doc: dict) -> list[str]:
    """Beside the findings, one line per configuration whose negative control grows (its own
    cost per exited thread, `controls.invalid_configs`): that cost, and each of its scenario
    cells that leaked with what it grows beyond it, so a reader tells a scenario's leak from
    the configuration's. (A cell within the cost says nothing of its scenario.)"""
    lines, seen = [], set()
    for flat in doc.get("cells") or []:
        cost, where = _rate(flat), (flat.get("config"), flat.get("target"))
        if flat.get("role") != "control-flat" or flat.get("verdict") != "leak" or cost is None \
                or where in seen:
            continue
        seen.add(where)
        unit = (flat.get("rate") or {}).get("unit", "B/thread")
        found = ["%s %s %s (%s beyond it)" % (c["scenario"], c["verdict"], num(_rate(c)),
                                              "%+.0f" % (_rate(c) - cost))
                 for c in doc.get("cells") or [] if not is_control(c) and
                 c.get("config") == flat.get("config") and c.get("target") == flat.get("target")
                 and c.get("verdict") == "leak" and _rate(c) is not None]
        lines.append("%s: its %s grows %s %s, the configuration's own cost per exited thread, "
                     "carried by its other cells too%s" % (
                         flat.get("config"), flat.get("scenario"), num(cost), unit,
                         ("; beside it: " + ", ".join(found)) if found else ""))
    return lines


def provenance_line(doc: dict) -> str:
    """Where the run came from, in one line (each target's host and compiler, in a merge of
    several)."""
    h = doc.get("harness") or {}
    commit = (h.get("commit") or "?")[:12] + ("+dirty" if h.get("dirty") else "")
    where = []
    for part in doc.get("parts") or [doc]:
        host, b = part.get("host") or {}, part.get("build") or {}
        label = (part["target"]["label"] + ": ") if doc.get("parts") else ""
        where.append("%s%s, %s %s, %s; CC %s" % (
            label, host.get("os", "?"), host.get("kernel", "?"), host.get("machine", "?"),
            host.get("libc", "?"), b.get("c_compiler") or "?"))
    return "; ".join(["tlsleak %s (%s)" % (h.get("version", "?"), commit), *where,
                      "finished %s" % (doc.get("finished") or "?")])


def exit_text(cell: dict) -> str:
    """How the process ended: 'stopped by the harness once the verdict was settled', or its own
    exit code and signal."""
    ex = cell.get("exit") or {}
    if ex.get("stopped_by_harness"):
        return "stopped by the harness %s" % STOPS.get(ex.get("stop"), "")
    return "code %s, signal %s" % (ex.get("code"), ex.get("signal"))


def cell_provenance(cell: dict) -> list[tuple[str, str]]:
    """(label, value) rows: where the cell's allocator and program came from, and what ran."""
    a = cell.get("allocator") or {}
    seen = cell.get("observed_allocator") or {}
    th = cell.get("threads") or {}
    cc = (cell.get("provenance") or {}).get("compiler") or {}
    rows = [("configuration", a.get("id") or cell.get("config", "?")),
            ("origin", a.get("origin") or "-"),
            ("library", a.get("library") or "-"),
            ("observed", "%s %s, malloc from %s, %s%s" % (
                seen.get("name", "?"), seen.get("version") or "(no version call)",
                seen.get("malloc_from") or "?",
                seen.get("libc") or "?", OWNS_BY_FILE if seen.get("owns_by") == "file" else "")
             if seen else "-"),
            ("compiler", "%s, %s" % (cc.get("c", "?"), cc.get("c_flags", "?")) if cc else "-"),
            ("threads", "%s of %s finished" % (th.get("finished"), th.get("requested"))),
            ("exit", exit_text(cell)),
            ("duration", "%.2f s" % (cell.get("duration_s") or 0))]
    base = cell.get("baseline")
    if base:
        rows.append(("baseline", "%s (expected %s)%s" % (
            base.get("status"), base.get("expected") or "nothing: not in the baseline",
            ": " + base["explanation"] if base.get("explanation") else "")))
    return rows
