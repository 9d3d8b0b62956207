"""`-a NAME@REF:MODE` with a source: build the tree into the cache (versions/), and turn the
spec into the exact configuration id the build makes, for configs.select.

REF is a tag, branch or commit of `--repo NAME=DIR`, or a source spec of its own (`debian`,
`git:DIR@REF`, `dir:DIR`, `tar:FILE`, `upstream:TAG`). Anything else (`mimalloc@2.0.9:static`)
is a configuration CMake already has and passes through untouched. The builds of one run are
written to build/tlsleak-built.json before its configure, an empty list when there are none, so
nothing about this run is left for the next one.
"""
from dataclasses import dataclass, field
from pathlib import Path

from tlsleak import InfraError, UsageError, configs, interrupts, provision


@dataclass
class Prepared:
    """The specs for configs.select, and the builds to list in tlsleak-built.json."""
    specs: list = field(default_factory=list)
    items: list = field(default_factory=list)  # [(versions.Built, [mode, ...])]


def split(text):
    """NAME@REF:MODE -> (name, ref or None, mode or None); REF may itself hold ':' and '@'."""
    name, at, rest = text.strip().partition("@")
    if not at:
        name, colon, mode = name.partition(":")
        return name, None, mode or None
    ref, colon, mode = rest.rpartition(":")
    if colon and mode in configs.MODES:
        return name, ref, mode
    return name, rest, None


def parse_repos(items):
    """`--repo NAME=DIR` options -> {name: absolute dir}."""
    repos = {}
    for item in items:
        name, eq, path = item.partition("=")
        if not eq or not name or not path:
            raise UsageError(f"malformed --repo '{item}' (expected NAME=DIR)")
        full = Path(path).expanduser().resolve()
        if not full.is_dir():
            raise UsageError(f"--repo {item}: {full} is not a directory")
        repos[name] = str(full)
    return repos


def build_one(name, spec, modes, root, jobs=None):
    """The versions.Built of allocator `name` from source `spec`, in `modes` (None: all).
    Bad specs are UsageError; a tool missing is InfraError; a tree that does not build raises
    versions.BuildFailed (bisect tells it apart from an infrastructure failure)."""
    versions = interrupts.load("tlsleak.versions")  # only runs that build from source pay
    try:
        recipe = versions.recipe(name)
    except KeyError:
        raise UsageError(f"{name} cannot be built from source (recipes: "
                         f"{', '.join(sorted(versions.RECIPES))})")
    bad = [m for m in modes or () if m not in recipe.modes]
    if bad:
        raise UsageError(f"{name} built from source has no mode {', '.join(bad)} "
                         f"(it has: {', '.join(recipe.modes)})")
    provision.ensure()  # the compilers, before the first source build
    try:
        src = versions.resolve_for(name, spec, root)
    except versions.SourceError as e:
        raise (InfraError if e.exit_code == versions.EXIT_INFRA else UsageError)(str(e))
    return src, versions.ensure_built(name, src, modes, root=root, jobs=jobs)


def prepare(allocators, repos, root, jobs=None):
    """Build what the specs name from source; the specs rewritten to configuration ids."""
    versions = interrupts.load("tlsleak.versions")
    out = Prepared()
    by_entry = {}
    for text in allocators:
        name, ref, mode = split(text)
        spec = versions.spec_for(name, ref, repos) if ref else None
        if spec is None:
            out.specs.append(text)
            continue
        try:
            src, built = build_one(name, spec, [mode] if mode else None, root, jobs)
        except versions.BuildFailed as e:
            raise InfraError(f"{e}" + (f"\n{e.log_tail}" if e.log_tail else ""))
        modes = [mode] if mode else list(built.modes)
        listed = modes
        if src.kind == "debian":
            # Debian's package already gives the other modes under the same id.
            listed = [m for m in modes if m == "static"]
        have = by_entry.setdefault(built.entry, (built, []))[1]
        have.extend(m for m in listed if m not in have)
        out.specs.extend(f"{name}@{built.label}:{m}" for m in modes)
    out.items = [(b, m) for b, m in by_entry.values() if m]
    return out
