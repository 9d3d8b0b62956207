"""snmalloc (microsoft/snmalloc): its tree says no version (no macro, no CMake project version),
so the version is the tag of the commit (`git describe`: 0.7.5); a tree that is not a tagged
git commit's cannot be named. No run-time version call either: the build records it.

The recipe builds only the malloc shims: libsnmallocshim.so (dynamic, override) and, from 0.4,
the static shim, with an empty symbol prefix (its default, sn_, would leave malloc alone)."""
import re

from tlsleak.families import Family
from tlsleak.families.recipe import Artefacts, Recipe, StepFailed, read_text

OPTIONS = ("-DSNMALLOC_BUILD_TESTING=OFF", "-DSNMALLOC_STATIC_LIBRARY_PREFIX=",
           "-DSNMALLOC_LINK_ICF=OFF")
DESCRIBE_RE = re.compile(r"^v?(\d+(?:\.\d+)+)-(\d+)-g[0-9a-f]+$")


def tree_version(tree, describe=""):
    if "project(snmalloc" not in read_text(tree / "CMakeLists.txt"):
        raise StepFailed("not a snmalloc tree: no project(snmalloc ...) in CMakeLists.txt")
    m = DESCRIBE_RE.match(describe or "")
    if not m:
        raise StepFailed("snmalloc's tree has no version of its own: build a commit of a git "
                         "clone that has its release tags")
    return m.group(1)


def build(ctx):
    ctx.run("cmake", "-S", ctx.src, "-B", ctx.build, *ctx.cmake_args(), *OPTIONS)
    # 0.3 and older have no static shim; without a target list they build every test.
    targets = ["snmallocshim"]
    if "snmallocshim-static" in read_text(ctx.src / "CMakeLists.txt"):
        targets.append("snmallocshim-static")
    ctx.run("cmake", "--build", ctx.build, "-j", str(ctx.jobs), "--target", *targets)
    static = ctx.build / "libsnmallocshim-static.a"
    shared = ctx.build / "libsnmallocshim.so"
    if not shared.is_file():
        raise StepFailed("no libsnmallocshim.so after the build")
    return Artefacts(static=str(static) if static.is_file() else "", shared=str(shared),
                     preload=str(shared), include=str(ctx.src / "src"))


FAMILY = Family(
    name="snmalloc", inprocess="none (snmalloc has no version call)", decode=str,
    tree_version=tree_version,
    recipe=Recipe(build=build, options=OPTIONS + ("Release",),
                  upstream="https://github.com/microsoft/snmalloc",
                  static_name="libsnmallocshim-static.a",
                  # C++ inside; 16-byte compare-and-swap from libatomic before 0.6.
                  static_libs=("pthread", "stdc++", "atomic")))
