"""build/tlsleak-built.json: what the repro build learns about allocators built from source.

The harness rewrites it before every configure (an empty list when nothing was asked for), and
cmake/tlsleak_built.cmake registers a configuration NAME@LABEL:MODE per mode of each entry, so
nothing about one run is remembered in CMakeCache.txt for the next. Format (docs/DESIGN.md
section 4b): {"format": 1, "allocators": [entry, ...]}, each entry the fields below.
"""

import json
from pathlib import Path

from tlsleak import atomic

FORMAT = 1
FIELDS = ("name", "version", "label", "commit", "source", "modes", "static_lib", "shared_lib",
          "preload_lib", "include_dir", "static_link", "static_link_options", "static_libs",
          "static_extra_targets", "expect", "entry")


def entry(built, modes=None):
    """One allocator's entry: a cache.Built, restricted to `modes` (default: all it has)."""
    data = {k: getattr(built, k) for k in FIELDS}
    if modes:
        data["modes"] = [m for m in built.modes if m in modes]
    return data


def write(path, items):
    """Write the file from (Built, modes) pairs; rewrite only on change (CMake watches it)."""
    path = Path(path)
    text = json.dumps({"format": FORMAT, "allocators": [entry(b, m) for b, m in items]},
                      indent=2) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        atomic.write_text(path, text)
    return path


def config_ids(items):
    """The configuration ids the file makes: NAME@LABEL:MODE."""
    return [f"{b.name}@{b.label}:{m}" for b, modes in items
            for m in (modes or b.modes) if m in b.modes]
