"""gperftools tcmalloc (gperftools/gperftools): its version is AC_INIT's in configure.ac,
which tc_version() returns at run time as TC_VERSION_STRING ("gperftools 2.10")."""
import re

from tlsleak.families import Family
from tlsleak.families.recipe import Artefacts, Recipe, StepFailed, read_text, single


def decode(text):
    """tc_version()'s string -> the version: "gperftools 2.10" -> "2.10"."""
    return str(text).split()[-1]


def tree_version(tree, describe=""):
    for name in ("configure.ac", "configure.in"):
        m = re.search(r"AC_INIT\(\[gperftools\],\s*\[([^\]]+)\]", read_text(tree / name))
        if m:
            return m.group(1)
    m = re.search(r"project\(gperftools[^)]*VERSION\s+([0-9.]+)",
                  read_text(tree / "CMakeLists.txt"))
    if m:
        return m.group(1)
    raise StepFailed("not a gperftools tree: no AC_INIT([gperftools], ...) in configure.ac")


def build(ctx):
    if not (ctx.src / "configure").exists():
        if (ctx.src / "autogen.sh").exists():
            ctx.run("./autogen.sh")
        else:
            ctx.run("autoreconf", "-fi")
    # tcmalloc_minimal: the allocator without the heap profiler and checker, so no libunwind
    # and a third of the build; it has the same thread caches and teardown.
    ctx.run("./configure", "--enable-minimal", "--disable-debugalloc",
            env={"CC": ctx.env["CC"], "CXX": ctx.env["CXX"]})
    ctx.run("make", f"-j{ctx.jobs}", "libtcmalloc_minimal.la")
    libs = ctx.src / ".libs"
    shared = single(libs / "libtcmalloc_minimal.so.*")
    return Artefacts(static=str(libs / "libtcmalloc_minimal.a"), shared=str(shared),
                     preload=str(shared), include=str(ctx.src / "src" / "gperftools"))


FAMILY = Family(
    name="tcmalloc", inprocess='tc_version(): a string, "gperftools 2.10"', decode=decode,
    tree_version=tree_version,
    recipe=Recipe(build=build, options=("--enable-minimal",), debian_source="google-perftools",
                  upstream="https://github.com/gperftools/gperftools",
                  static_libs=("pthread", "stdc++", "m")))
