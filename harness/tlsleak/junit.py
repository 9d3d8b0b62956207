"""junit.xml: a results document as JUnit XML for CI (docs/RESULTS.md "JUnit XML"). One
<testcase> per cell; every text from a program or a results file goes through escape.xml, so
the file is well-formed XML whatever the program printed."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tlsleak import atomic, cellinfo, escape, numtext
from tlsleak.vocab import CONTROL_EXPECT

_UNJUDGED = ("crash", "timeout", "error")


def rate_message(cell: dict) -> str:
    """'2048 B/thread (95% CI 2028..2068, rss, n=33)', or '' without a rate."""
    rate = cell.get("rate")
    if not rate:
        return ""
    return "%s %s (%s, %s, n=%d)" % (numtext.num(rate["value"]), rate["unit"],
                                     numtext.ci(rate["confidence"], *rate["ci"]),
                                     cell.get("signal") or "?", rate["n"])


def _exit_line(cell: dict) -> str | None:
    ex = cell.get("exit") or {}
    if ex.get("stopped_by_harness"):
        return "exit: stopped by the harness (%s)" % ex.get("stop")
    if ex.get("code") is None and ex.get("signal") is None:
        return None
    return "exit: code %s, signal %s" % (ex.get("code"), ex.get("signal"))


def outcome(cell: dict) -> tuple[str | None, str]:
    """(element, type) for a cell: 'failure', 'error', 'skipped' or None (passed)."""
    verdict = cell["verdict"]
    if verdict in _UNJUDGED:
        return "error", verdict
    want = CONTROL_EXPECT.get(cell["role"])
    if want is not None:  # a control passes when it shows what it must
        return (None, verdict) if verdict == want else ("failure", "control-" + verdict)
    return {"leak": ("failure", "leak"), "inconclusive": ("skipped", "inconclusive"),
            "ok": (None, "ok")}.get(verdict, ("error", verdict))


def _properties(suite, doc: dict) -> None:
    props = ET.SubElement(suite, "properties")
    harness = doc.get("harness") or {}
    for key, value in (("schema", doc.get("schema")), ("run_id", doc.get("run_id")),
                       ("harness.version", harness.get("version")),
                       ("harness.commit", harness.get("commit")),
                       *(("settings." + k, v) for k, v in (doc.get("settings") or {}).items())):
        if value is not None:
            ET.SubElement(props, "property", name=escape.xml(key), value=escape.xml(value))


def _case(suite, cell: dict) -> str | None:
    """One <testcase>; returns its outcome element (or None: passed)."""
    case = ET.SubElement(suite, "testcase", classname=escape.xml("tlsleak." + cell["scenario"]),
                         name=escape.xml(cell["id"]), time="%.3f" % cell["duration_s"])
    element, kind = outcome(cell)
    rate = rate_message(cell)
    message = "%s: %s%s" % (cell["verdict"], cell["reason"], " [%s]" % rate if rate else "")
    command = cellinfo.command_line(cell) if cell["command"] else ""
    if element is not None:
        node = ET.SubElement(case, element, message=escape.xml(message))
        if element != "skipped":
            node.set("type", escape.xml(kind))
            body = ["verdict: " + cell["verdict"], "reason: " + cell["reason"]]
            body += ["rate: " + rate] if rate else []
            body += [_exit_line(cell)] if _exit_line(cell) else []
            body += ["command: " + command] if command else []
            node.text = escape.xml("\n".join(body))
    # Every case says how to run it again: the program, with the preload environment.
    if command:
        cprops = ET.Element("properties")  # first, as pytest's record_property does
        ET.SubElement(cprops, "property", name="command", value=escape.xml(command))
        case.insert(0, cprops)
    out = ([message] if element is None and rate else []) + \
        (["command: " + command] if command else [])
    if out:
        ET.SubElement(case, "system-out").text = escape.xml("\n".join(out))
    if element is not None and cell.get("stderr_tail"):
        ET.SubElement(case, "system-err").text = escape.xml(cell["stderr_tail"])
    return element


def tree(doc: dict) -> ET.ElementTree:
    """The JUnit XML tree of a results document (see write)."""
    cells = doc["cells"]
    root = ET.Element("testsuites", name="tlsleak")
    suite = ET.SubElement(root, "testsuite", name="tlsleak")
    _properties(suite, doc)
    counts = {"failure": 0, "error": 0, "skipped": 0}
    for cell in cells:
        element = _case(suite, cell)
        if element is not None:
            counts[element] += 1
    attrs = {"tests": str(len(cells)), "failures": str(counts["failure"]),
             "errors": str(counts["error"]), "skipped": str(counts["skipped"]),
             "time": "%.3f" % (doc.get("duration_s") or sum(c["duration_s"] for c in cells))}
    if doc.get("started"):
        attrs["timestamp"] = escape.xml(doc["started"])
    for node in (root, suite):
        for k, v in attrs.items():
            if node is not root or k not in ("skipped", "timestamp"):
                node.set(k, v)
    ET.indent(root)
    return ET.ElementTree(root)


def write(path, doc: dict) -> None:
    """Write JUnit XML for CI, atomically: <testsuites><testsuite name="tlsleak"> with one
    <testcase classname="tlsleak.SCENARIO" name=CELL_ID time=DURATION> per cell. leak ->
    <failure>, crash/timeout/error -> <error>, inconclusive -> <skipped>, ok -> passed; the
    message holds the verdict, reason and rate. Controls pass when they show what they must
    (control-leak: leak, control-flat: ok) and fail otherwise."""
    data = ET.tostring(tree(doc).getroot(), encoding="utf-8", xml_declaration=True)
    atomic.write_bytes(path, data + b"\n")
