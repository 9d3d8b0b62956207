"""The bytes explore's generated C files had when they were built by Python code
(harness/tlsleak/explore/emit.py and promote.py before their templates): one sha256 per group
of points, written by `python3 tests/data/explore/golden.py` (PYTHONPATH=harness) and read by
tests/unit/test_explore_emit.py and test_explore_promote.py, so the templates must give the
same files byte for byte. The "promote" hashes were recomputed once with that code's include
line renamed to "repro.h" (the scenario library's header since it stopped sharing the name
tlsleak.h with include/tlsleak.h)."""
import hashlib
import itertools
import json
import sys
from pathlib import Path

from tlsleak.explore import emit, promote, space

HERE = Path(__file__).resolve().parent
# (title, build, run) given to emit.source: the defaults, and what output.write_finding gives.
EMIT_TEXTS = [{}, {"title": "tlsleak explore finding F1-new:",
                   "build": "cc -O2 -Wall -Wextra -pthread leak.c -o leak",
                   "run": "TLSLEAK_FAULTY=drop ./leak 20000 1000"}]
NOTES = ["", "Leaked under faulty@1.0.0:static 22528 B/thread, mimalloc@2.0.9:dynamic 57344 "
         "B/thread, tcmalloc@2.10:override 5258 B/thread, and one more to wrap the note."]
GROUPED = ("tls", "action", "end")


def _points():
    for values in itertools.product(*(d.values for d in space.DIMENSIONS)):
        yield dict(zip(space.NAMES, values))


def emit_groups():
    """{"tls=.. action=.. end=..": sha256 of every source of that group, in product order}"""
    hashes = {}
    for p in _points():
        group = " ".join("%s=%s" % (k, p[k]) for k in GROUPED)
        h = hashes.setdefault(group, hashlib.sha256())
        for texts in EMIT_TEXTS:
            h.update(emit.source(p, **texts).encode() + b"\0")
    return {k: h.hexdigest() for k, h in hashes.items()}


def promote_sources():
    """{key + note number: sha256 of the scenario file} for every point promote takes."""
    out = {}
    for p in _points():
        if any(space.normalise(p)[d] not in ok for d, ok in promote.SUPPORTED.items()):
            continue
        for i, note in enumerate(NOTES):
            text = promote.source(p, promote.scenario_name(p), note=note)
            out["%s note%d" % (space.key(p), i)] = hashlib.sha256(text.encode()).hexdigest()
    return out


def write():
    doc = {"emit": emit_groups(), "promote": promote_sources()}
    (HERE / "golden.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    sys.exit(write())
