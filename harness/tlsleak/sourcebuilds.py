"""`-a NAME@REF:MODE` with a source: build the tree into the cache (versions/), and turn the
spec into the exact configuration id the build makes, for configs.select.

REF is a tag, branch or commit of `--repo NAME=DIR`, or a source spec of its own (`debian`,
`git:DIR@REF`, `dir:DIR`, `tar:FILE`, `upstream:TAG`). Anything else (`mimalloc@2.0.9:static`)
is a configuration the build already has and passes through untouched (Debian's source trees
in .cache/src among them: build.Build lists those in every run, versions/debian.py). The builds
of one run are written to build/tlsleak-built.json before its configure, so nothing about this
run is left for the next one.
"""
from dataclasses import dataclass, field
from pathlib import Path

from tlsleak import InfraError, UsageError, families, identity, provision, versions
from tlsleak.families.recipe import HOST
from tlsleak.versions import builtfile
from tlsleak.vocab import EXIT_INFRA


@dataclass
class Prepared:
    """The specs for configs.select, and the builds to list in tlsleak-built.json."""
    specs: list = field(default_factory=list)
    items: list = field(default_factory=list)  # [(versions.Built or debian.Planned, [mode])]


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


def build_one(name, spec, modes, root, jobs=None, toolchain=HOST):
    """The versions.Built of allocator `name` from source `spec`, in `modes` (None: all), for
    the target of `toolchain` (a platform's: platforms/).
    Bad specs are UsageError; a tool missing is InfraError; a tree that does not build raises
    versions.BuildFailed (bisect tells it apart from an infrastructure failure)."""
    family = families.FAMILIES.get(name)
    if family is None or not family.buildable:
        raise UsageError(f"{name} cannot be built from source (recipes: "
                         f"{', '.join(sorted(families.buildable()))})")
    have = family.modes_for(toolchain.os)
    bad = [m for m in modes or () if m not in have]
    if bad:
        where = f" for {toolchain.os}" if toolchain.os else ""
        raise UsageError(f"{name} built from source{where} has no mode {', '.join(bad)} "
                         f"(it has: {', '.join(have)})")
    provision.ensure()  # the compilers, before the first source build
    try:
        src = versions.resolve_for(name, spec, root)
    except versions.SourceError as e:
        raise (InfraError if e.exit_code == EXIT_INFRA else UsageError)(str(e))
    return src, versions.ensure_built(name, src, modes, root=root, jobs=jobs,
                                      toolchain=toolchain)


def prepare(allocators, repos, root, jobs=None, toolchain=HOST):
    """Build what the specs name from source (with `toolchain`); the specs rewritten to
    configuration ids."""
    out = Prepared()
    by_entry = {}
    for text in allocators:
        spec = identity.split(text)
        source = versions.spec_for(spec.name, spec.version, repos) if spec.version else None
        if source is None:
            out.specs.append(text)
            continue
        try:
            src, built = build_one(spec.name, source, [spec.mode] if spec.mode else None, root,
                                   jobs, toolchain)
        except versions.BuildFailed as e:
            raise InfraError(f"{e}" + (f"\n{e.log_tail}" if e.log_tail else ""))
        modes = [spec.mode] if spec.mode else list(built.modes)
        # Debian's package already gives the other modes under the same id.
        builtfile.add(by_entry, built, [m for m in modes if src.kind != "debian" or m == "static"])
        out.specs.extend(built.ids(modes))
    out.items = [(b, m) for b, m in by_entry.values() if m]
    return out
