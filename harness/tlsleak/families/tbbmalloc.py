"""oneTBB's tbbmalloc (uxlfoundation/oneTBB): its version is oneTBB's, TBB_VERSION_MAJOR,
_MINOR and _PATCH in include/oneapi/tbb/version.h; the allocator has no run-time version call,
so a program reports none and there is nothing to decode."""
import re

from tlsleak.families import Family
from tlsleak.families.recipe import Artefacts, Recipe, StepFailed, read_text, single


def tree_version(tree, describe=""):
    text = read_text(tree / "include" / "oneapi" / "tbb" / "version.h")
    parts = [re.search(rf"#define TBB_VERSION_{p}\s+(\d+)", text)
             for p in ("MAJOR", "MINOR", "PATCH")]
    if all(parts[:2]):
        return ".".join(m.group(1) for m in parts if m)
    raise StepFailed("not a oneTBB tree: no TBB_VERSION_MAJOR in include/oneapi/tbb/version.h")


def build(ctx):
    ctx.run("cmake", "-S", ctx.src, "-B", ctx.build, *ctx.cmake_args(), "-DTBB_TEST=OFF",
            "-DTBB_EXAMPLES=OFF", "-DTBB_STRICT=OFF", "-DTBBMALLOC_BUILD=ON",
            # The proxy needs libtbbmalloc.so.2: from beside it ($ORIGIN) once both are in the
            # cache entry, never the system's (the build folder is removed).
            "-DCMAKE_BUILD_RPATH_USE_ORIGIN=ON")
    ctx.run("cmake", "--build", ctx.build, "-j", str(ctx.jobs), "--target", "tbbmalloc",
            "tbbmalloc_proxy")
    proxy = single(next(ctx.build.glob("*_release"), ctx.build) / "libtbbmalloc_proxy.so.*")
    return Artefacts(shared=str(proxy), preload=str(proxy), include=str(ctx.src / "include"))


FAMILY = Family(
    name="tbbmalloc", inprocess="none (tbbmalloc has no version call)", decode=str,
    modes=("override",), tree_version=tree_version,
    # oneTBB's source package is large (tests, docs, python bindings) and set-up does not
    # fetch it: point a clone or tarball at it. Only the proxy overrides malloc.
    recipe=Recipe(build=build,
                  options=("tbbmalloc", "tbbmalloc_proxy", "Release", "RPATH=$ORIGIN"),
                  upstream="https://github.com/uxlfoundation/oneTBB"))
