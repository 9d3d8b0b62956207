"""The allocator families: one entry per allocator, the registry every layer reads.

A family says, once: its name (what a program's `alloc` line calls it and a configuration's
`expect`), the modes a build from source gives, how its version is read from a source tree,
how the running library reports its version and how that decodes into the version as the
project writes it, and its recipe (how a tree is built). The C side prints what the library
reports, raw (`alloc version=209` for mimalloc 2.0.9); `observed` decodes it here, and every
other layer (the allocator/version checks, results, reports) reads the decoded value.

Adding a family (docs/DESIGN.md "Adding an allocator"): one module in this package defining
FAMILY, listed in _MODULES; one file repro/common/alloc/NAME.c (+ its row in table.c); one
file allocators/NAME.cmake.
"""
import dataclasses
from importlib import import_module
from typing import Callable

from tlsleak import paths
from tlsleak.identity import NATIVE_MODES
from tlsleak.families.recipe import Recipe

# Where the C and CMake sources live (allocators/ holds data both CMake and families read).
SOURCE_ROOT = paths.SOURCE


@dataclasses.dataclass(frozen=True)
class Family:
    name: str  # as the `alloc` line's name= and a configuration's expect
    inprocess: str  # how the running library reports its version, in words
    decode: Callable[[str], str]  # that report, raw -> the version as the project writes it
    modes: tuple = NATIVE_MODES  # the modes a build from source gives (for the host's kind)
    tree_version: Callable | None = None  # (tree, git describe) -> version; None: not built
    recipe: Recipe | None = None  # None: this family is not built from source
    # Modes a Debian source tree in .cache/src gives by default (the modes the package lacks).
    debian_modes: tuple = ()
    target_modes: dict = dataclasses.field(default_factory=dict)  # {os: modes} elsewhere

    def modes_for(self, os_name=""):
        """The modes a build from source gives for target system `os_name` ("" the host's)."""
        return tuple(self.target_modes.get(os_name, self.modes))

    @property
    def buildable(self):
        return self.recipe is not None and self.tree_version is not None


# In the order the C side probes them (repro/common/alloc/table.c); system last.
_MODULES = ("mimalloc", "snmalloc", "jemalloc", "tcmalloc", "tbbmalloc", "faulty", "rpmalloc",
            "hoard", "scudo", "system")
FAMILIES = {f.name: f for f in (import_module(f"tlsleak.families.{m}").FAMILY
                                for m in _MODULES)}


def get(name):
    """The family `name`; KeyError naming the known ones."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"no allocator family '{name}' (known: {', '.join(FAMILIES)})") from None


def buildable():
    """The families a tree can be built from, by name."""
    return {name: f for name, f in FAMILIES.items() if f.buildable}


def decode(name, raw):
    """The version `raw` (what the running library of family `name` reported) as the project
    writes it; `raw` itself for an unknown family or a value its rule cannot read."""
    family = FAMILIES.get(name)
    text = "" if raw is None else str(raw).strip()
    if family is None or not text:
        return text
    try:
        return family.decode(text) or text
    except (ValueError, TypeError):
        return text


def observed(alloc):
    """An `alloc` record (DESIGN.md "Checkpoint line format") with its version decoded by the
    family rule, what the program printed kept as `version_raw`."""
    if not alloc or "version" not in alloc:
        return alloc
    raw = alloc["version"]
    return {**alloc, "version": decode(alloc.get("name"), raw), "version_raw": str(raw)}


__all__ = ["FAMILIES", "Family", "Recipe", "SOURCE_ROOT", "buildable", "decode", "get",
           "observed"]
