"""mimalloc (microsoft/mimalloc): its version is one number, MI_MALLOC_VERSION in
include/mimalloc.h, which mi_version() returns at run time. How that number decodes is a table
CMake reads too (allocators/mimalloc-version.json), so the header read at configure time, the
tree read before a build and the running library read in-process all decode alike."""
import json
import re

from tlsleak.families import SOURCE_ROOT, Family
from tlsleak.families.recipe import Artefacts, Recipe, StepFailed, read_text, single

TABLE = json.loads((SOURCE_ROOT / "allocators" / "mimalloc-version.json").read_text())


def decode(number):
    """MI_MALLOC_VERSION / mi_version() -> "major.minor.patch" (209 -> 2.0.9, 3010 -> 3.0.10,
    3208 -> 3.2.8, 20300 -> 2.3.0). A value that is not a number of a known width is returned
    as it is: the mismatch, if any, is then shown as read."""
    text = str(number).strip()
    rule = TABLE["digits"].get(str(len(text))) if text.isdigit() else None
    if rule is None:
        return text
    patch, minor = rule["patch"], rule["minor"]
    parts = (text[:-(patch + minor)], text[-(patch + minor):-patch], text[-patch:])
    return ".".join(str(int(p)) for p in parts)


def tree_version(tree, describe=""):
    """The version the tree's library will report: its header's MI_MALLOC_VERSION, decoded.
    (Its cmake/mimalloc-config-version.cmake disagrees on a few tags, e.g. v1.1.0 says 1.0.)"""
    m = re.search(r"^#define MI_MALLOC_VERSION\s+(\d+)", read_text(tree / "include" / "mimalloc.h"),
                  re.M)
    if m:
        return decode(m.group(1))
    raise StepFailed("not a mimalloc tree: no MI_MALLOC_VERSION in include/mimalloc.h")


def build(ctx):
    ctx.run("cmake", "-S", ctx.src, "-B", ctx.build, *ctx.cmake_args(), "-DMI_BUILD_TESTS=OFF",
            "-DMI_OVERRIDE=ON", "-DMI_BUILD_STATIC=ON", "-DMI_BUILD_SHARED=ON",
            "-DMI_BUILD_OBJECT=OFF", "-DMI_INSTALL_TOPLEVEL=ON")
    ctx.run("cmake", "--build", ctx.build, "-j", str(ctx.jobs))
    shared = single(ctx.build / "libmimalloc.so*")
    return Artefacts(static=str(single(ctx.build / "libmimalloc.a")), shared=str(shared),
                     preload=str(shared), include=str(ctx.src / "include"))


FAMILY = Family(
    name="mimalloc", inprocess="mi_version(): an int, decoded by allocators/mimalloc-version.json",
    decode=decode, tree_version=tree_version, debian_modes=("static",),
    recipe=Recipe(build=build,
                  options=("MI_OVERRIDE=ON", "MI_BUILD_STATIC=ON", "MI_BUILD_SHARED=ON",
                           "Release"),
                  debian_source="mimalloc", upstream="https://github.com/microsoft/mimalloc",
                  static_name="libmimalloc.a",
                  # tlsleak_mimalloc_exports (repro/) re-exports the mi_* API the static
                  # library hides, for the run-time identification.
                  static_extra_targets=("tlsleak_mimalloc_exports",)))
