"""build/tlsleak-built.json: what the repro build learns about allocators built from source.

The harness rewrites it before every configure (an empty list when nothing was asked for), and
cmake/tlsleak_built.cmake registers a configuration NAME@LABEL:MODE per mode of each entry, so
nothing about one run is remembered in CMakeCache.txt for the next. Format (docs/DESIGN.md
"Allocators built from source"): {"format": 1, "allocators": [entry, ...]}, each entry the fields below.
"""

import json
from pathlib import Path

from tlsleak import atomic

FORMAT = 1
FIELDS = ("name", "version", "label", "commit", "source", "modes", "static_lib", "shared_lib",
          "preload_lib", "include_dir", "static_link", "static_link_options", "static_libs",
          "static_extra_targets", "expect", "route", "entry")


def entry(built, modes=None):
    """One allocator's entry: a cache.Built (or a debian.Planned, not built yet), restricted to
    `modes` (default: all it has)."""
    data = {k: getattr(built, k) for k in FIELDS}
    if modes:
        data["modes"] = [m for m in built.modes if m in modes]
    return data


def add(by_entry, item, modes):
    """List `item` (a build, or a Debian tree not built yet) in `modes` in `by_entry` (entry
    folder -> (item, modes)), once per entry: a build made now stands for the plan of the same
    entry."""
    old, have = by_entry.get(item.entry, (item, []))
    have.extend(m for m in modes if m not in have)
    by_entry[item.entry] = (item if getattr(old, "pending", False) else old, have)


def merged(*lists):
    """[(item, modes)] of several lists of them, one per cache entry, in first-seen order."""
    by_entry = {}
    for items in lists:
        for item, modes in items:
            add(by_entry, item, modes)
    return [(b, m) for b, m in by_entry.values() if m]


def write(path, items):
    """Write the file from (Built or Planned, modes) pairs; rewrite only on change (CMake
    watches it)."""
    path = Path(path)
    text = json.dumps({"format": FORMAT, "allocators": [entry(b, m) for b, m in items]},
                      indent=2) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        atomic.write_text(path, text)
    return path
