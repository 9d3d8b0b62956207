"""Results documents on disk: read back and checked against the shipped schema, and written
atomically.

Every command that reads a results file (`show`, `report`, `merge`, `compare`, `run
--baseline`) reads it with load(): whatever is not a results document of this format, or
breaks its schema (a cell that is not an object, a rate that is a string), is bad input, one
line and exit 2 (UsageError), never an internal error further on."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from tlsleak import UsageError, atomic
from tlsleak.results import schemacheck
from tlsleak.results.model import SCHEMA_ID, SCHEMA_PATH

RESULTS = "results.json"
_CHECK = []  # the compiled schema, made at the first load


def results_path(path) -> Path:
    """A results file, or the run folder holding one."""
    p = Path(path)
    return p / RESULTS if p.is_dir() else p


def _no_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def loads(text, where) -> dict:
    """The results document in `text` (from `where`, named in the message), checked; a
    UsageError in one line when it is not one."""
    if not str(text).strip():
        raise UsageError(f"results {where} is empty")
    try:
        doc = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as e:
        raise UsageError(f"results {where} is not valid JSON ({str(e)[:120]})")
    if not isinstance(doc, dict) or "schema" not in doc:
        kind = {list: "a list", dict: "an object without a schema key"}.get(type(doc), repr(doc))
        raise UsageError(f"results {where} is not a {SCHEMA_ID} file (the JSON is "
                         f"{kind[:40]})")
    if doc["schema"] != SCHEMA_ID:
        raise UsageError(f"results {where} is not a {SCHEMA_ID} file (its schema is "
                         f"{str(doc['schema'])[:60]!r})")
    validate(doc, where)
    return doc


def load(path) -> dict:
    """The results document at `path` (a file, or a run folder), checked (loads)."""
    path = results_path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UsageError(f"results {path}: {e.strerror or e}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"results {path} is not valid JSON (not UTF-8 text)")
    return loads(text, path)


def validate(doc, where="the document") -> None:
    """Check `doc` against the shipped schema, and that its cell ids are unique; a UsageError
    naming where the first fault is."""
    if not _CHECK:
        _CHECK.append(schemacheck.compile(json.loads(SCHEMA_PATH.read_text())))
    try:
        _CHECK[0](doc)
    except schemacheck.Invalid as e:
        raise UsageError(f"results {where} is not a valid {SCHEMA_ID} file: {e}")
    seen = set()
    for i, cell in enumerate(doc["cells"]):
        if cell["id"] in seen:
            raise UsageError(f"results {where} is not a valid {SCHEMA_ID} file: cells[{i}]: "
                             f"id {cell['id'][:60]!r} is there twice")
        seen.add(cell["id"])


def clean(obj):
    """JSON-safe copy: non-finite floats become null, numpy scalars plain numbers, paths and
    tuples strings and lists."""
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if isinstance(obj, (bool, int, str)) or obj is None:
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if hasattr(obj, "item"):  # numpy scalar
        return clean(obj.item())
    if isinstance(obj, (set, frozenset)):
        return [clean(v) for v in sorted(obj, key=str)]
    return str(obj)


def dump(path, doc) -> None:
    """Write the results document as JSON (indent 2, keys in insertion order), atomically."""
    atomic.write_json(path, clean(doc))
