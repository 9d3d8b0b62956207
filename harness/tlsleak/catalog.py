"""The scenario catalog, read from the tagged header comment of each file in repro/scenarios/.

CMake reads the same tags (repro/CMakeLists.txt, docs/DESIGN.md "Scenario headers") with the same strict
rule, written here once for Python: the file starts with its /* header */; one `@role` in
vocab.SCENARIO_ROLES; `@scenario NAME [tls=MECH]` lines, NAME [a-z0-9_]+, MECH in MECHANISMS; no name twice.
A header that breaks the rule is an infrastructure error, as it is a CMake error. Which of the
scenarios this toolchain can build is the manifest's word (target.Target.scenarios).
"""
import re
from dataclasses import dataclass, field
from pathlib import Path

from tlsleak import InfraError
from tlsleak.vocab import SCENARIO_ROLES, is_control

# The last four are registered by a Windows scenario itself (repro/CMakeLists.txt).
MECHANISMS = ("none", "pthread", "c11", "cxx", "fls", "tlscb", "emutls", "dllmain")
_TAG = re.compile(r"^\s*\*?\s*@(\w+)\s+(.*?)\s*$")
_SCENARIO = re.compile(r"^([a-z0-9_]+)(?:[ \t]+tls=([a-z0-9]+))?$")


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
        return is_control(self.role)


def _header(text, rel):
    """The block comment a source file must start with."""
    end = text.find("*/")
    if not text.startswith("/*") or end < 0:
        raise InfraError(f"{rel} must start with a /* ... */ header (DESIGN.md, 'Scenario headers')")
    return text[:end]


def parse_source(path, root):
    """Scenarios declared by one source file's header tags."""
    rel = str(Path(path).relative_to(root))
    tags = {"scenario": [], "role": [], "summary": [], "refs": []}
    for line in _header(Path(path).read_text(encoding="utf-8"), rel).splitlines():
        m = _TAG.match(line)
        if m and m.group(1) in tags:
            tags[m.group(1)].append(m.group(2))
    if not tags["role"]:
        raise InfraError(f"{rel}: no @role")
    role = tags["role"][0]
    if role not in SCENARIO_ROLES:
        raise InfraError(f"{rel}: bad @role '{role}'")
    if not tags["scenario"]:
        raise InfraError(f"{rel}: no @scenario line")
    summary = tags["summary"][0] if tags["summary"] else ""
    refs_text = tags["refs"][0] if tags["refs"] else "none"
    refs = [] if refs_text == "none" else [r.strip() for r in refs_text.split(";") if r.strip()]
    out = []
    for decl in tags["scenario"]:
        m = _SCENARIO.match(decl)
        if not m:
            raise InfraError(f"{rel}: bad line '@scenario {decl}'")
        tls = m.group(2) or "none"
        if tls not in MECHANISMS:
            raise InfraError(f"{rel}: {m.group(1)}: bad tls '{tls}'")
        out.append(Scenario(name=m.group(1), tls=tls, role=role, summary=summary, refs=refs,
                            source=rel))
    return out


def load(root):
    """All scenarios, sorted: controls first, then by name."""
    found = []
    # scenarios/<platform>/ holds the scenarios of one target OS (@platform, DESIGN.md section
    # 1); which ones a build can run is its manifest's business (target.Target.buildable).
    scen = Path(root) / "repro" / "scenarios"
    for path in sorted([*scen.glob("*.c*"), *scen.glob("*/*.c*")]):
        found.extend(parse_source(path, root))
    names = [s.name for s in found]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InfraError(f"scenario {twice[0]} is declared twice")
    order = {role: i for i, role in enumerate(SCENARIO_ROLES)}
    return sorted(found, key=lambda s: (order.get(s.role, 9), s.name))
