"""One allocator identity: a configuration is NAME@VERSION:MODE (the C library's malloc is just
`system`), parsed and written here and nowhere else; versions are compared by one rule; and the
checks that a program runs the allocator, the library and the version asked for live here too
(policy.decide calls them). How each allocator reports and decodes its version is its family's
business (families/); this module only compares versions already decoded.

    parse("mimalloc@2.0:static")        -> Spec("mimalloc", "2.0", "static")
    split("jemalloc@git:/a b@5.3.0")     -> Spec("jemalloc", "git:/a b@5.3.0", None)
    format_id("mimalloc", "2.0.9", "static") == "mimalloc@2.0.9:static"
    version_matches("2.0", "2.0.9")      -> True  (a leading part names the version)
"""
import os
import re
from typing import NamedTuple

from tlsleak import UsageError

SYSTEM = "system"  # the C library's malloc: its id, name and mode
# How an allocator other than the system's is used. `redirect`: mimalloc's override on Windows
# (its DLL with mimalloc-redirect.dll, the programs over UCRT); `override` preloads elsewhere.
NATIVE_MODES = ("static", "dynamic", "override")
MODES = NATIVE_MODES + ("redirect",)
_NAME = r"[a-z][a-z0-9_]*"
_SPEC = re.compile(rf"^(?P<name>{_NAME})(?:@(?P<version>[0-9A-Za-z][0-9A-Za-z._+-]*))?"
                   r"(?::(?P<mode>[a-z]+))?$")
_GIT_ID = re.compile(r"-g([0-9a-f]{7})[0-9a-f]*$")


class Spec(NamedTuple):
    """NAME[@VERSION][:MODE] as given: VERSION and MODE are None when left out."""
    name: str
    version: str | None = None
    mode: str | None = None


def parse(text):
    """A configuration spec, strictly (VERSION a version, not a source); UsageError in one line
    naming what is wrong."""
    m = _SPEC.match(text.strip())
    if not m:
        raise UsageError(f"malformed configuration '{text}' (expected NAME[@VERSION][:MODE], "
                         f"MODE one of {', '.join(MODES)})")
    if m.group("mode") and m.group("mode") not in MODES:
        raise UsageError(f"unknown mode '{m.group('mode')}' in '{text}' "
                         f"(accepted: {', '.join(MODES)})")
    return Spec(m.group("name"), m.group("version"), m.group("mode"))


def split(text):
    """NAME@REF:MODE where REF may be a source that holds ':' and '@' itself (a tag, a commit,
    `git:DIR@REF`, `dir:DIR`): only a last `:MODE` naming a mode is the mode."""
    name, at, rest = text.strip().partition("@")
    if not at:
        name, _, mode = name.partition(":")
        return Spec(name, None, mode or None)
    ref, colon, mode = rest.rpartition(":")
    if colon and mode in MODES:
        return Spec(name, ref, mode)
    return Spec(name, rest, None)


def format_id(name, version=None, mode=None):
    """The configuration id: NAME@VERSION:MODE, each part only when given; `system` alone."""
    if name == SYSTEM:
        return SYSTEM
    return name + (f"@{version}" if version else "") + (f":{mode}" if mode else "")


def name_mode(config_id):
    """(NAME, MODE) of an id; the system allocator's mode is `system`."""
    spec = split(config_id)
    return spec.name, spec.mode or (SYSTEM if spec.name == SYSTEM else None)


def slug(config_id):
    """The configuration part of a cell id, pytest style: mimalloc@2.0.9-override, system."""
    return config_id.replace(":", "-")


def cell_id(scenario, config_id):
    """A cell's id, SCENARIO-NAME@VERSION-MODE (SCENARIO-system): from identities alone, so it
    never changes when another configuration joins the matrix."""
    return f"{scenario}-{slug(config_id)}"


# --- versions --------------------------------------------------------------------------------

def version_core(version):
    """A version as compared: stripped, a git id in it cut to 7 digits (5.3.0-0-g54eaed1)."""
    return _GIT_ID.sub(r"-g\1", str(version).strip())


def version_matches(want, have):
    """Whether `want` names version `have`: the same, or its leading part (`2.0` names
    2.0.9; jemalloc's `5.3.0` names 5.3.0-0-g54eaed1). Two git ids must be the same one.
    None or "" names every version."""
    if not want:
        return True
    a, b = version_core(want), version_core(have)
    return a == b or b.startswith(a + ".") or b.startswith(a + "-")


def versions_agree(a, b):
    """Whether two versions of one allocator are the same release as far as both know: one
    names the other (a package's header says 5.3.0, the running jemalloc 5.3.0-0-g54eaed1;
    a header without the patch says 2.9, the library 2.9.1)."""
    return version_matches(a, b) or version_matches(b, a)


# A build from a plain folder or a tarball is named by its contents' hash (versions/sources.py
# Source.key, "tree-<sha256>" / "tar-<sha256>"): `+d` / `+t` and 7 digits of it.
CONTENT_MARKS = {"dir": "d", "tarball": "t"}


def label(version, commit="", kind="", key=""):
    """The VERSION of the id of a build from source: the version as its project writes it (a
    git id in it cut to 7 digits), plus `+g` and 7 digits of the commit when the source is a git
    commit the version does not already name, so two commits with one version number are two
    configurations and an id never depends on what else is in the run. A folder or a tarball
    (source `kind`) gets `+d` / `+t` and 7 digits of its contents' hash (`key`): never the id of
    the packaged release with the same version, nor of another tree."""
    text = version_core(version)
    named = [h.lower() for h in re.findall(r"g([0-9a-fA-F]{7,40})\b", text)]
    if commit and not any(commit.startswith(h) for h in named):
        return f"{text}+g{commit[:7]}"
    digest = key.rpartition("-")[2]
    if not commit and kind in CONTENT_MARKS and digest:
        return f"{text}+{CONTENT_MARKS[kind]}{digest[:7]}"
    return text


# --- the checks: is the program running what was asked for? --------------------------------

def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def allocator_problem(alloc, expect, library="", route="malloc"):
    """Why the process (its `alloc` record) is not served by the configured allocator `expect`
    the configured way, and, when `library` is a shared library, by that very file; None when
    it is. `route` api: the program must say it routes its allocations to the allocator's own
    functions (mode=api), and the routed malloc must be the allocator's."""
    if not expect:
        return None
    if alloc is None:
        return "the program reported no allocator (no 'alloc' line)"
    name = alloc.get("name")
    if name != expect:
        return (f"allocator check failed: configured {expect}, but malloc is served by {name} "
                f"(from {alloc.get('malloc_from', '?')})")
    if str(alloc.get("owns")) != "1":
        return f"allocator check failed: {expect} is loaded but does not own a fresh malloc block"
    served = alloc.get("malloc_from") or ""
    if library and served and ".so" in os.path.basename(library) \
            and not _same_file(served, library):
        return (f"allocator check failed: malloc comes from {served}, not the configured "
                f"{library} (a library path or preload in the environment?)")
    said = alloc.get("mode") or "malloc"
    if said != (route or "malloc"):
        return (f"allocator check failed: configured route {route or 'malloc'}, but the program "
                f"reaches {expect} by {said}")
    return None


def version_problem(alloc, expect, wanted):
    """Why the running allocator is not the version asked for, else None. `alloc["version"]`
    is the decoded version (families.observed); nothing to say when the program reads none
    (tbbmalloc) or the cell has no allocator of its own."""
    running = str((alloc or {}).get("version", "") or "")
    if not wanted or not expect or expect == SYSTEM or not running:
        return None
    if (alloc or {}).get("name") != expect or versions_agree(wanted, running):
        return None
    raw = (alloc or {}).get("version_raw")
    read = f" (read {raw})" if raw not in (None, "", running) else ""
    return f"version mismatch: asked for {expect} {wanted}, the program runs {running}{read}"
