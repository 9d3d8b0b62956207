"""Promote a finding of `tlsleak explore` into the catalog: a scenario file in repro/scenarios/
(docs/DESIGN.md "Scenario headers"'s header tags) written with the scenario library
(repro/common/repro.h), so the matrix runs the shape under every configuration from then on.

The file is the template templates/explore_scenario.c. Only shapes the library expresses are
promoted: a pthread or C11 key whose destructor, in the first or the last destructor round,
mallocs and frees a --size block (the finding's first allocation, or not), the thread returning
or calling pthread_exit. Any other finding: one
clear line, and its standalone repro stays the way to reproduce it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tlsleak import UsageError, paths, templates

from . import space

SUPPORTED = {"tls": ("pthread", "c11"), "round": (1, space.ROUNDS), "action": ("malloc_free",),
             "early_key": (0,), "keys": (1,), "end": ("return", "exit")}


def scenario_name(point):
    diff = space.differs(space.simplest(), point)
    # round4, prealloc0 for numbers; the value alone for words (malloc_free, c11, exit)
    parts = ["%s%s" % (k, point[k]) if isinstance(point[k], int) else point[k]
             for k in diff if k not in ("concurrency", "size")]
    return "explore_" + "_".join(parts or ["simplest"])


def source(point, name, note=""):
    p = space.normalise(point)
    for dim, ok in SUPPORTED.items():
        if p[dim] not in ok:
            raise UsageError(f"cannot promote {space.key(p)}: {dim}={p[dim]} has no scenario "
                             f"library primitive (promotable: {SUPPORTED}); use its standalone "
                             f"repro")
    last = p["round"] == space.ROUNDS
    facts = {"last": last, "prealloc": bool(p["prealloc"]), "exit": p["end"] == "exit",
             "note": bool(note)}
    values = {
        "name": name, "tls": p["tls"], "key": space.key(p),
        "summary": "Found by tlsleak explore: a destructor mallocs in round %d%s." % (
            p["round"], ", the thread's first" if p["prealloc"] == 0 else ""),
        "note": "\n".join(" * " + note[i:i + 90].strip() for i in range(0, len(note), 90)),
        "body": ("mallocs, writes and frees a --size block, then" if p["prealloc"]
                 else "(which allocates nothing itself)"),
        "then_exit": ", then calls pthread_exit" if p["end"] == "exit" else "",
        "when": (" in the last destructor round (it re-arms itself until then)" if last
                 else ""),
    }
    return templates.render("explore_scenario.c", facts, values)


def promote(out_dir: Path, finding: str, scenarios_dir: Path) -> Path:
    """Write finding `finding` (its name, e.g. F2-new) of the explore run in `out_dir` as a
    scenario file; returns its path. Refuses to overwrite a scenario."""
    doc_path = out_dir / "findings.json"
    if not doc_path.is_file():
        raise UsageError(f"{doc_path} not found: --out must be the folder of an explore run")
    found = {f["name"]: f for f in json.loads(doc_path.read_text())["findings"]}
    if finding not in found:
        raise UsageError(f"no finding '{finding}' in {doc_path} (known: "
                         f"{', '.join(found) or 'none'})")
    f = found[finding]
    point = space.parse_key(f["key"])
    name = scenario_name(point)
    path = scenarios_dir / (name + ".c")
    if path.exists():
        raise UsageError(f"{path} exists already")
    rates = ", ".join("%s %.0f B/thread" % (r["label"], r["rate"] or 0) for r in f["leaks"])
    path.write_text(source(point, name, note=f"Leaked under {rates}." if rates else ""))
    # The house style for repro/ (.clang-format beside it); it only reflows the free text.
    style = paths.SOURCE / ".clang-format"
    if shutil.which("clang-format") and style.is_file():
        subprocess.run(["clang-format", f"--style=file:{style}", "-i", str(path)], check=False)
    return path
