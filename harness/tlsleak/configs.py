"""Allocator configurations: the ones CMake found (build/manifest.json, docs/DESIGN.md "Build
manifest"), and the specs NAME[@VERSION][:MODE] (identity.py) resolved against them."""
from dataclasses import dataclass

from tlsleak import UsageError, environment, identity


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
        """The manifest's entry; its preload named by a path the preload variable can carry
        (environment.preload_path), or the configuration unavailable saying why not."""
        keys = cls.__dataclass_fields__
        conf = cls(**{k: entry.get(k, "") for k in keys if k not in ("label", "route")},
                   route=entry.get("route") or "malloc")
        try:
            conf.preload = environment.preload_path(conf.preload)
        except ValueError as e:
            conf.available, conf.reason = False, str(e)
        return conf

    @property
    def ours(self):
        """tlsleak's own allocator, built from this tree's allocators/ (faulty): an instrument
        of the tests, not an allocator a user ships."""
        return self.origin.startswith("allocators/")

    @property
    def slug(self):
        """The config part of a cell id (identity.slug): mimalloc@2.0.9-override, system."""
        return identity.slug(self.id)


def cell_id(scenario, config):
    """A cell's id (identity.cell_id), e.g. last_round_alloc-mimalloc@2.0.9-dynamic."""
    return identity.cell_id(scenario, config.id)


def label_all(configs):
    """Display labels: the version is shown only where two versions of name:mode exist."""
    for c in configs:
        twins = [o for o in configs if o.name == c.name and o.mode == c.mode]
        if c.name == identity.SYSTEM:
            c.label = identity.SYSTEM
        elif len(twins) > 1:
            c.label = c.id  # the id: two commits of one version differ only there
        else:
            c.label = identity.format_id(c.name, None, c.mode)
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
        spec = identity.parse(text)
        named = [c for c in configs if c.name == spec.name]
        if not named:
            known = sorted({c.name for c in configs})
            raise UsageError(f"unknown allocator '{spec.name}' (known: {', '.join(known)})")
        versioned = [c for c in named if identity.version_matches(spec.version, c.version)]
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
