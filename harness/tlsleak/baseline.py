"""Baselines: the verdict of every cell on one kind of machine, with known leaks explained.

`tlsleak run --baseline FILE` compares a run against it: a leak the baseline does not know is
new (exit 1); a known leak is expected (exit 0); a known leak that stopped is reported as fixed.
Cells are matched by id (SCENARIO-NAME@VERSION-MODE) and by the allocator version each entry
records, so a baseline only ever speaks for the version it measured (the system allocator's id,
`system`, carries no version: the libc's is recorded beside it).
`tlsleak run --write-baseline FILE` records a run, keeping the explanations already written."""
import json
import os
import tempfile

from tlsleak import UsageError
from tlsleak.vocab import FINDINGS, is_control

FORMAT = "tlsleak-baseline/2"
RESULTS_SCHEMA = "tlsleak-results/2"  # results.SCHEMA_ID, without importing the writer
TODO = "TODO: explain which teardown ordering and link mode make this cell leak"


def load(path):
    """The baseline at path, or a previous run's results.json taken as one; a usage error (one
    line) when it cannot be used."""
    try:
        with open(path) as fh:
            doc = json.load(fh)
    except OSError as e:
        raise UsageError(f"baseline {path}: {e.strerror}")
    except ValueError as e:
        raise UsageError(f"baseline {path} is not valid JSON ({e})")
    if isinstance(doc, dict) and doc.get("schema") == RESULTS_SCHEMA:
        return {"format": FORMAT, "cells": _entries(doc, {}), "from_results": str(path)}
    if not isinstance(doc, dict) or doc.get("format") != FORMAT \
            or not isinstance(doc.get("cells"), dict):
        raise UsageError(f"baseline {path} is not a {FORMAT} file")
    for cid, entry in doc["cells"].items():  # checked now, not after the run
        if not isinstance(entry, dict) or not isinstance(entry.get("verdict", ""), str):
            raise UsageError(f"baseline {path}: cell '{cid}' is not an object with a verdict")
    return doc


def compare(cells, base):
    """Mark each cell with what the baseline expected; return the changes by kind."""
    changes = {"new": [], "fixed": [], "known": [], "changed": [], "unknown_cell": [],
               "no_baseline_for_version": []}
    measured = {(e.get("scenario"), *_name_mode(e.get("config", "")))
                for e in base["cells"].values()}
    for cell in cells:
        if is_control(cell["role"]):
            continue  # controls are judged against what they must show, not a baseline
        entry = base["cells"].get(cell["id"])
        if entry is not None and entry.get("version") not in (None, cell["allocator"]["version"]):
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


def _name_mode(config_id):
    """NAME@VERSION:MODE -> (NAME, MODE); `system` -> (system, system)."""
    name = config_id.split("@")[0].split(":")[0]
    return name, config_id.rpartition(":")[2] if ":" in config_id else "system"


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
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".baseline-")
    with os.fdopen(fd, "w") as fh:
        json.dump(out, fh, indent=2)
        fh.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return out
