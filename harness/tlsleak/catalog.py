"""The scenario catalog, read from the tagged header comment of each file in repro/scenarios/.

CMake reads the same tags (docs/DESIGN.md section 1), so the catalog has one source of truth.
"""
import re
from dataclasses import dataclass, field
from pathlib import Path

ROLES = ("control-leak", "control-flat", "scenario", "fault")
_TAG = re.compile(r"^\s*\*?\s*@(\w+)\s+(.*?)\s*$")


@dataclass
class Scenario:
    name: str
    tls: str
    role: str
    summary: str
    refs: list = field(default_factory=list)
    source: str = ""

    @property
    def is_control(self):
        return self.role.startswith("control-")


def _header(text):
    """The first block comment of a source file."""
    start = text.find("/*")
    end = text.find("*/", start)
    return text[start:end] if start >= 0 and end > start else ""


def parse_source(path, root):
    """Scenarios declared by one source file's header tags."""
    tags = {"scenario": [], "role": [], "summary": [], "refs": []}
    for line in _header(Path(path).read_text(encoding="utf-8")).splitlines():
        m = _TAG.match(line)
        if m and m.group(1) in tags:
            tags[m.group(1)].append(m.group(2))
    role = tags["role"][0] if tags["role"] else "scenario"
    summary = tags["summary"][0] if tags["summary"] else ""
    refs_text = tags["refs"][0] if tags["refs"] else "none"
    refs = [] if refs_text == "none" else [r.strip() for r in refs_text.split(";") if r.strip()]
    out = []
    for decl in tags["scenario"]:
        parts = decl.split()
        attrs = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        out.append(Scenario(name=parts[0], tls=attrs.get("tls", "none"), role=role,
                            summary=summary, refs=refs,
                            source=str(Path(path).relative_to(root))))
    return out


def load(root):
    """All scenarios, sorted: controls first, then by name."""
    found = []
    for path in sorted((Path(root) / "repro" / "scenarios").glob("*.c*")):
        found.extend(parse_source(path, root))
    order = {"control-leak": 0, "control-flat": 1, "scenario": 2, "fault": 3}
    return sorted(found, key=lambda s: (order.get(s.role, 9), s.name))
