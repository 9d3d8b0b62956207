"""Baselines: the verdict of every cell on one kind of machine, with known leaks explained.

`tlsleak run --baseline FILE` compares a run against it: a leak the baseline does not know is
new (exit 1); a known leak is expected (exit 0); a known leak that stopped is reported as fixed.
Cells are matched by id (SCENARIO-NAME@VERSION-MODE) and by the allocator version each entry
records, so a baseline only ever speaks for the version it measured (the system allocator's id,
`system`, carries no version: the libc's is recorded beside it).
`tlsleak run --write-baseline FILE` records a run, keeping the explanations already written."""
import json
from pathlib import Path

from tlsleak import UsageError, atomic, identity, results
from tlsleak.results.store import clean
from tlsleak.vocab import FINDINGS, VERDICTS, is_control

FORMAT = "tlsleak-baseline/2"
TODO = "TODO: explain which teardown ordering and link mode make this cell leak"
# The text fields of an entry: each a string when present (version, explanation: or null).
_TEXT = {"scenario": False, "config": False, "version": True, "explanation": True,
         "commit": True}


def load(path):
    """The baseline at path, or a previous run's results.json taken as one; a usage error (one
    line) when it cannot be used: read, parsed and checked before anything runs."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"baseline {path}: {getattr(e, 'strerror', None) or e}")
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise UsageError(f"baseline {path} is not valid JSON ({str(e)[:120]})")
    if isinstance(doc, dict) and "schema" in doc:  # a run's results, read as results are
        return {"format": FORMAT, "cells": _entries(results.loads(text, path), {}),
                "from_results": str(path)}
    if not isinstance(doc, dict) or doc.get("format") != FORMAT \
            or not isinstance(doc.get("cells"), dict):
        raise UsageError(f"baseline {path} is not a {FORMAT} file")
    for cid, entry in doc["cells"].items():
        problem = _entry_problem(entry)
        if problem:
            raise UsageError(f"baseline {path}: cell {cid[:60]!r} {problem}")
    return doc


def _entry_problem(entry):
    """What is wrong with one baseline entry, or None."""
    if not isinstance(entry, dict) or entry.get("verdict") not in VERDICTS:
        return "is not an object with a verdict (" + ", ".join(VERDICTS) + ")"
    for key, nullable in _TEXT.items():
        value = entry.get(key)
        if key in entry and not (isinstance(value, str) or (nullable and value is None)):
            return f"has a {key} that is not a string"
    rate = entry.get("rate")
    if rate is not None and not (isinstance(rate, dict) and isinstance(rate.get("unit"), str)
                                 and isinstance(rate.get("value"), (int, float))
                                 and not isinstance(rate.get("value"), bool)):
        return "has a rate that is not {value: number, unit: string}"
    return None


def compare(cells, base):
    """Mark each cell with what the baseline expected; return the changes by kind."""
    changes = {"new": [], "fixed": [], "known": [], "changed": [], "unknown_cell": [],
               "no_baseline_for_version": []}
    measured = {(e.get("scenario"), *identity.name_mode(e.get("config", "")))
                for e in base["cells"].values()}
    for cell in cells:
        if is_control(cell["role"]):
            continue  # controls are judged against what they must show, not a baseline
        entry = base["cells"].get(cell["id"])
        if entry is not None and entry.get("version") is not None and not \
                identity.versions_agree(entry["version"], cell["allocator"]["version"]):
            entry = None  # measured under another version: not this cell's baseline
        expected = entry["verdict"] if entry else None
        now = cell["verdict"]
        alloc = cell["allocator"]
        if entry is None and cell["id"] not in base["cells"] and (
                cell.get("scenario"), alloc.get("name"), alloc.get("mode")) in measured:
            status = "no_baseline_for_version"  # another version was measured, not this one
        elif entry is None:
            status = "new" if now in FINDINGS else "unknown_cell"
        elif now in FINDINGS and expected == now:
            status = "known"
        elif now in FINDINGS:
            status = "new"
        elif expected in FINDINGS and now == "ok":
            status = "fixed"
        elif now != expected:
            status = "changed"
        else:
            status = None
        cell["baseline"] = {"expected": expected, "status": status or "same",
                            "explanation": (entry or {}).get("explanation")}
        if status:
            changes[status].append(cell["id"])
    return changes


def _entries(doc, old):
    """A baseline's cells from a results document."""
    cells = {}
    for cell in doc["cells"]:
        entry = {"verdict": cell["verdict"], "scenario": cell["scenario"],
                 "config": cell["allocator"]["id"], "version": cell["allocator"]["version"]}
        if cell["rate"]:
            entry["rate"] = {"value": cell["rate"]["value"], "unit": cell["rate"]["unit"]}
        if cell["verdict"] in FINDINGS and not is_control(cell["role"]):
            entry["explanation"] = old.get(cell["id"], {}).get("explanation") or TODO
        if cell["allocator"].get("commit"):
            entry["commit"] = cell["allocator"]["commit"]
        cells[cell["id"]] = entry
    return cells


def write(path, doc, previous=None):
    """Record the run in doc as a baseline, keeping explanations from the previous one."""
    cells = _entries(doc, (previous or {}).get("cells", {}))
    out = {
        "format": FORMAT,
        "produced_by": {"command": doc["command"], "harness": doc["harness"],
                        "host": doc["host"], "build": doc["build"],
                        "settings": doc["settings"], "finished": doc["finished"]},
        "cells": dict(sorted(cells.items())),
    }
    atomic.write_json(path, clean(out))
    return out
