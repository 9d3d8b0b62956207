"""What a run leaves behind: the table on the terminal, results.json, and JUnit XML for CI.

The results document itself is built by results.py (docs/RESULTS.md).
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Sequence

from .numtext import num as _num
from .vocab import CONTROL_EXPECT, CONTROL_MARK, VERDICTS

# What a control cell must show (anything else means the detector is not working).

_COLOURS = {"ok": "32", "leak": "1;31", "inconclusive": "33", "crash": "1;35",
            "timeout": "1;35", "error": "1;35"}


# ---------------------------------------------------------------------------------------------
# the table


def _rate_text(cell: dict) -> str:
    rate = cell.get("rate")
    if not rate:
        return "-"
    slope = rate["value"]
    half = (rate["ci"][1] - rate["ci"][0]) / 2.0
    big = max(abs(slope), abs(half))
    digits = 0 if big >= 100 else 1 if big >= 1 else 2
    text = "%.*f +- %.*f" % (digits, slope, digits, half)
    if rate.get("unit", "B/thread") != "B/thread":  # the column's unit; say any other
        text += " " + rate["unit"]
    if cell.get("signal"):
        text += " (%s)" % cell["signal"]
    return text


def _threads_text(cell: dict) -> str:
    th = cell.get("threads") or {}
    fin, req = th.get("finished"), th.get("requested")
    return "%s/%s" % ("-" if fin is None else fin, "-" if req is None else req)


def _time_text(cell: dict) -> str:
    d = cell.get("duration_s")
    return "-" if d is None else "%.1f s" % d


def _scenario_text(cell: dict) -> str:
    mark = CONTROL_MARK.get(cell.get("role", ""))
    return "%s %s" % (cell.get("scenario", "?"), mark) if mark else str(cell.get("scenario", "?"))


def _verdict_text(cell: dict) -> str:
    v = str(cell.get("verdict", "?"))
    want = CONTROL_EXPECT.get(cell.get("role", ""))
    if want and v != want:
        v += " !"  # a control that did not show what it must
    return v


def summary_counts(cells: Sequence[dict]) -> dict:
    """{verdict: count} over VERDICTS."""
    counts = {v: 0 for v in VERDICTS}
    for c in cells:
        v = c.get("verdict")
        counts[v] = counts.get(v, 0) + 1
    return counts


def interrupted_text(doc: dict) -> str:
    """The footer of an interrupted run: how many of the planned cells finished."""
    planned = (doc.get("plan") or {}).get("selected")
    of = " of %d planned" % planned if planned is not None else ""
    return ("INTERRUPTED: %d%s cells finished; the rest did not run"
            % (len(doc.get("cells") or []), of))


def render_table(cells: Sequence[dict], *, color: bool = False, details: bool = True) -> str:
    """The cells as one aligned text table (scenario, config, verdict, B/thread +- half the CI
    and the deciding signal, threads finished/requested, time), then a summary line of counts.
    Controls carry [ctl+] (must leak) or [ctl-] (must be ok), and "!" when they did not.
    `details`: list the reason of every cell that is not ok (controls: that missed) below.
    `color`: ANSI colours on the verdict."""
    headers = ("scenario", "config", "verdict", "B/thread +- CI/2 (signal)", "threads", "time")
    right = (False, False, False, True, True, True)
    rows = [(_scenario_text(c), str(c.get("config", "?")), _verdict_text(c), _rate_text(c),
             _threads_text(c), _time_text(c)) for c in cells]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def fmt(row, verdicts=None):
        parts = []
        for i, text in enumerate(row):
            cell = text.rjust(widths[i]) if right[i] else text.ljust(widths[i])
            if i == 2 and verdicts is not None and color:
                code = _COLOURS.get(verdicts.split()[0])
                if code:
                    cell = "\x1b[%sm%s\x1b[0m" % (code, cell)
            parts.append(cell)
        return "  ".join(parts).rstrip()

    lines = [fmt(headers), "  ".join("-" * w for w in widths)]
    lines += [fmt(r, r[2]) for r in rows]
    counts = summary_counts(cells)
    summary = "%d cell%s: " % (len(cells), "" if len(cells) == 1 else "s")
    summary += ", ".join("%d %s" % (counts[v], v) for v in VERDICTS)
    extra = sorted(k for k in counts if k not in VERDICTS)
    if extra:
        summary += ", " + ", ".join("%d %s" % (counts[k], k) for k in extra)
    lines.append(summary)
    if any(c.get("role") in CONTROL_MARK for c in cells):
        lines.append("[ctl+] positive control, must leak; [ctl-] negative control, must be ok; "
                     "! = it did not")
    if details:
        # Controls that showed what they must are the expected case: no note for them.
        notes = [c for c in cells if c.get("reason")
                 and c.get("verdict") != CONTROL_EXPECT.get(c.get("role", ""), "ok")]
        for c in notes:
            grew = "; grew: " + ", ".join(c["attribution"]) if c.get("attribution") else ""
            lines.append("  %s: %s: %s%s" % (c.get("id", "?"), c.get("verdict"), c["reason"],
                                              grew))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# results.json


def _clean(obj):
    """JSON-safe copy: non-finite floats become null, numpy scalars plain numbers, paths and
    tuples strings and lists."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if hasattr(obj, "item"):  # numpy scalar
        return _clean(obj.item())
    if isinstance(obj, (set, frozenset)):
        return [_clean(v) for v in sorted(obj, key=str)]
    return str(obj)


def _atomic_write(path, data: bytes) -> None:
    path = Path(path)
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def point_latest(folder, link) -> None:
    """`link` (e.g. results/runs/latest) -> `folder`, replaced atomically: a new link beside
    it, then a rename over the old one. Relative, so the tree can move."""
    link = Path(link)
    tmp = link.with_name(".%s.%d.tmp" % (link.name, os.getpid()))
    if tmp.is_symlink():
        tmp.unlink()
    os.symlink(os.path.relpath(folder, link.parent), tmp)
    os.replace(tmp, link)


def write_results(path, doc: dict) -> None:
    """Write the results document as JSON (indent 2, keys in insertion order), atomically:
    a temporary file in the same directory, then os.replace."""
    text = json.dumps(_clean(doc), indent=2, sort_keys=False, ensure_ascii=False,
                      allow_nan=False)
    _atomic_write(path, (text + "\n").encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# JUnit XML

_XML_BAD = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(s) -> str:
    """Text safe for XML 1.0: characters it cannot hold are shown as \\xNN."""
    return _XML_BAD.sub(lambda m: "\\x%02x" % ord(m.group()), "" if s is None else str(s))


def _rate_message(cell: dict) -> str:
    rate = cell.get("rate")
    if not rate:
        return ""
    return "%s %s (%d%% CI %s..%s, %s, n=%d)" % (
        _num(rate["value"]), rate["unit"], round(rate.get("confidence", 0) * 100),
        _num(rate["ci"][0]), _num(rate["ci"][1]), cell.get("signal") or "?", rate.get("n", 0))


def command_line(cell: dict) -> str:
    """The exact program command of the cell, with the environment the harness set (the
    preload variable among it), ready to paste into a POSIX shell."""
    env = ["%s=%s" % (k, shlex.quote(str(v))) for k, v in sorted((cell.get("env") or {}).items())]
    argv = [shlex.quote(str(a)) for a in cell.get("command") or []]
    return " ".join((["env"] + env if env else []) + argv)


def _exit_line(cell: dict) -> str | None:
    ex = cell.get("exit") or {}
    if ex.get("stopped_by_harness"):
        return "exit: stopped by the harness (%s)" % ex.get("stop")
    if ex.get("code") is None and ex.get("signal") is None:
        return None
    return "exit: code %s, signal %s" % (ex.get("code"), ex.get("signal"))


def _outcome(cell: dict) -> tuple[str | None, str]:
    """(element, type) for a cell: 'failure', 'error', 'skipped' or None (passed)."""
    verdict = cell.get("verdict")
    if verdict in ("crash", "timeout", "error"):
        return "error", verdict
    want = CONTROL_EXPECT.get(cell.get("role", ""))
    if want is not None:  # a control passes when it shows what it must
        return (None, verdict) if verdict == want else ("failure", "control-" + str(verdict))
    if verdict == "leak":
        return "failure", "leak"
    if verdict == "inconclusive":
        return "skipped", "inconclusive"
    if verdict == "ok":
        return None, "ok"
    return "error", str(verdict)


def junit_tree(doc: dict) -> ET.ElementTree:
    """The JUnit XML tree of a results document (see write_junit)."""
    cells = doc.get("cells") or []
    root = ET.Element("testsuites", name="tlsleak")
    suite = ET.SubElement(root, "testsuite", name="tlsleak")
    counts = {"failure": 0, "error": 0, "skipped": 0}
    total_time = 0.0
    props = ET.SubElement(suite, "properties")
    harness = doc.get("harness") or {}
    settings = doc.get("settings") or {}
    for key, value in (("schema", doc.get("schema")), ("run_id", doc.get("run_id")),
                       ("harness.version", harness.get("version")),
                       ("harness.commit", harness.get("commit")),
                       *(("settings." + k, v) for k, v in settings.items())):
        if value is not None:
            ET.SubElement(props, "property", name=key, value=_xml_text(value))
    for cell in cells:
        duration = cell.get("duration_s") or 0.0
        total_time += duration
        case = ET.SubElement(suite, "testcase", classname="tlsleak.%s" % cell.get("scenario", "?"),
                             name=_xml_text(cell.get("id", "?")), time="%.3f" % duration)
        element, kind = _outcome(cell)
        rate = _rate_message(cell)
        message = _xml_text("%s: %s%s" % (cell.get("verdict"), cell.get("reason", ""),
                                          " [%s]" % rate if rate else ""))
        if element is not None:
            counts[element] += 1
            node = ET.SubElement(case, element, message=message)
            if element != "skipped":
                node.set("type", kind)
                body = ["verdict: %s" % cell.get("verdict"), "reason: %s" % cell.get("reason", "")]
                if rate:
                    body.append("rate: %s" % rate)
                if _exit_line(cell):
                    body.append(_exit_line(cell))
                if cell.get("command"):
                    body.append("command: %s" % command_line(cell))
                node.text = _xml_text("\n".join(body))
        # Every case says how to run it again: the program, with the preload environment.
        if cell.get("command"):
            cprops = ET.Element("properties")  # first, as pytest's record_property does
            ET.SubElement(cprops, "property", name="command",
                          value=_xml_text(command_line(cell)))
            case.insert(0, cprops)
        out = ([message] if element is None and rate else []) + \
            (["command: " + command_line(cell)] if cell.get("command") else [])
        if out:
            ET.SubElement(case, "system-out").text = _xml_text("\n".join(out))
        if element is not None and cell.get("stderr_tail"):
            ET.SubElement(case, "system-err").text = _xml_text(cell["stderr_tail"])
    attrs = {"tests": str(len(cells)), "failures": str(counts["failure"]),
             "errors": str(counts["error"]), "skipped": str(counts["skipped"]),
             "time": "%.3f" % (doc.get("duration_s") or total_time)}
    if doc.get("started"):
        attrs["timestamp"] = _xml_text(doc["started"])
    for node in (root, suite):
        for k, v in attrs.items():
            if node is root and k in ("skipped", "timestamp"):
                continue
            node.set(k, v)
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(path, doc: dict) -> None:
    """Write JUnit XML for CI, atomically: <testsuites><testsuite name="tlsleak"> with one
    <testcase classname="tlsleak.SCENARIO" name=CELL_ID time=DURATION> per cell. leak ->
    <failure>, crash/timeout/error -> <error>, inconclusive -> <skipped>, ok -> passed; the
    message holds the verdict, reason and rate. Controls pass when they show what they must
    (control-leak: leak, control-flat: ok) and fail otherwise."""
    tree = junit_tree(doc)
    data = ET.tostring(tree.getroot(), encoding="utf-8", xml_declaration=True)
    _atomic_write(path, data + b"\n")
