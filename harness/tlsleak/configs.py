"""Allocator configurations: the spec syntax NAME[@VERSION][:MODE] and its resolution against
the configurations that CMake found (build/manifest.json, section 4 of docs/DESIGN.md)."""
import re
from dataclasses import dataclass

from tlsleak import UsageError

MODES = ("static", "dynamic", "override")
_SPEC = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)(?:@(?P<version>[0-9A-Za-z][0-9A-Za-z._+-]*))?"
                   r"(?::(?P<mode>[a-z]+))?$")


@dataclass(frozen=True)
class Spec:
    name: str
    version: str | None
    mode: str | None


@dataclass
class Config:
    """One configuration of the manifest. `id` is its identity, NAME@VERSION:MODE (just
    `system` for the C library's malloc), stable whatever else is built; `label` is only for
    display and may change when a second version joins."""
    id: str
    name: str
    version: str
    mode: str
    available: bool
    reason: str
    bin_dir: str
    target: str
    preload: str
    library: str
    origin: str
    expect: str
    commit: str = ""  # the git commit of a source build (tlsleak-built.json), else ""
    route: str = "malloc"  # how the programs reach the allocator: malloc, or its own api
    label: str = ""  # short display name, set by label_all()

    @classmethod
    def from_manifest(cls, entry):
        keys = cls.__dataclass_fields__
        return cls(**{k: entry.get(k, "") for k in keys if k not in ("label", "route")},
                   route=entry.get("route") or "malloc")

    @property
    def ours(self):
        """tlsleak's own allocator, built from this tree's allocators/ (faulty): an instrument
        of the tests, not an allocator a user ships."""
        return self.origin.startswith("allocators/")

    @property
    def slug(self):
        """The config part of a cell id, pytest style, from the identity alone:
        mimalloc@2.0.9-override, system."""
        return self.id.replace(":", "-")


def cell_id(scenario, config):
    """A cell's id: SCENARIO-NAME@VERSION-MODE (SCENARIO-system), e.g.
    last_round_alloc-mimalloc@2.0.9-dynamic. Built from identities only, so it never changes
    when a second version of an allocator joins the matrix."""
    return f"{scenario}-{config.slug}"


def parse_spec(text):
    m = _SPEC.match(text.strip())
    if not m:
        raise UsageError(f"malformed configuration '{text}' (expected NAME[@VERSION][:MODE], "
                         f"MODE one of {', '.join(MODES)})")
    if m.group("mode") and m.group("mode") not in MODES:
        raise UsageError(f"unknown mode '{m.group('mode')}' in '{text}' "
                         f"(accepted: {', '.join(MODES)})")
    return Spec(m.group("name"), m.group("version"), m.group("mode"))


def _version_matches(want, have):
    return want is None or have == want or have.startswith(want + ".")


def label_all(configs):
    """Display labels: the version is shown only where two versions of name:mode exist."""
    for c in configs:
        twins = [o for o in configs if o.name == c.name and o.mode == c.mode]
        if c.name == "system":
            c.label = "system"
        elif len(twins) > 1:
            c.label = c.id  # the id: two commits of one version differ only there
        else:
            c.label = f"{c.name}:{c.mode}"
    return configs


def select(configs, specs):
    """The configurations the specs name, in manifest order. No spec: every available one.

    A spec that names nothing known, or only unavailable configurations, is a usage error: the
    user asked for something that cannot run, and should hear why in one line.
    """
    if not specs:
        return [c for c in configs if c.available]
    chosen = []
    for text in specs:
        exact = [c for c in configs if c.id == text.strip()]
        if exact:  # a full id, e.g. one a source build made (faulty@1.1.0+g4a188e5:static)
            if not exact[0].available:
                raise UsageError(f"{text} is unavailable: {exact[0].reason}")
            chosen.extend(c for c in exact if c not in chosen)
            continue
        spec = parse_spec(text)
        named = [c for c in configs if c.name == spec.name]
        if not named:
            known = sorted({c.name for c in configs})
            raise UsageError(f"unknown allocator '{spec.name}' (known: {', '.join(known)})")
        versioned = [c for c in named if _version_matches(spec.version, c.version)]
        if not versioned:
            have = sorted({c.version for c in named})
            raise UsageError(f"no {spec.name} version '{spec.version}' "
                             f"(available: {', '.join(have)})")
        moded = [c for c in versioned if spec.mode is None or c.mode == spec.mode]
        if not moded:
            have = sorted({c.mode for c in versioned})
            raise UsageError(f"{spec.name} has no mode '{spec.mode}' here "
                             f"(available: {', '.join(have)})")
        usable = [c for c in moded if c.available]
        if not usable:
            raise UsageError(f"{text} is unavailable: {moded[0].reason}")
        chosen.extend(c for c in usable if c not in chosen)
    return [c for c in configs if c in chosen]
