"""Allocator versions as first-class: pin a source, build it into the cache, tell CMake.

    src = resolve("git:/path/to/mimalloc@v2.1.7", "mimalloc", root)   # sources.Source
    built = ensure_built("mimalloc", src, ["static"], root=root)      # cache.Built
    builtfile.write(root / "build" / "tlsleak-built.json", [(built, ["static"])])
    # -> configuration mimalloc@2.1.7+g<commit7>:static in build/manifest.json

How each allocator is built (its recipe), and how its version is read, is its family's
(tlsleak.families); this package runs the recipes, caches what they make and leases it.
"""

from tlsleak import families
from .builtfile import write as write_built_file
from .cache import BuildFailed, Built, ensure_built, prune
from .sources import SPEC_KINDS, Source, SourceError, resolve, resolve_git


def spec_for(name, ref, repos=None):
    """The source spec behind `-a NAME@REF:MODE`: REF of the clone `--repo NAME=DIR` names
    when there is one (`git:DIR@REF`); REF itself when it already is a spec (`debian`,
    `git:`, `dir:`, `tar:`, `upstream:`); else None: REF is then a version of a configuration
    CMake already has (a system package, the default source build)."""
    repos = repos or {}
    if name in repos:
        return f"git:{repos[name]}@{ref}"
    kind, colon, _ = ref.partition(":")
    if ref == "debian" or (colon and kind in SPEC_KINDS):
        return ref
    return None


def resolve_for(name, spec, root):
    """`resolve` with the family's Debian package and upstream URL filled in."""
    r = families.get(name).recipe
    return resolve(spec, name, root, upstream_url=r.upstream,
                   debian_package=r.debian_source or name)


__all__ = ["BuildFailed", "Built", "Source", "SourceError", "ensure_built", "prune", "resolve",
           "resolve_for", "resolve_git", "spec_for", "write_built_file"]
