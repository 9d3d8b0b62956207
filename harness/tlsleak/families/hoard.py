"""Hoard (emeryberger/Hoard): its version is the tag of the commit (git describe), else
HOARD_VERSION_STRING in src/include/VERSION.h from 3.13 ("3.13.0"). No run-time version
call.

Hoard is built on Heap-Layers (emeryberger/Heap-Layers), a submodule up to 3.12 and fetched
by its CMake build later: the recipe never fetches, so the tree must hold it in src/Heap-Layers
(a clone with its submodule checked out, given as dir:DIR; or Heap-Layers copied there). It
compiles what Hoard's GNUmakefile compiles for Linux (libhoard.cpp, unixtls.cpp, and
Heap-Layers' gnuwrapper.cpp where the makefile lists it apart)."""
import re

from tlsleak.families import Family
from tlsleak.families.recipe import Artefacts, Recipe, StepFailed, read_text

# As the GNUmakefile's Linux target; gnu++14, not c++14: 3.11/3.12 do not build under
# __STRICT_ANSI__ with GCC 12.
FLAGS = ("-std=gnu++14", "-O2", "-g", "-fPIC", "-Wno-narrowing", "-fno-builtin-malloc",
         "-DNDEBUG", "-D_REENTRANT=1", "-pthread")
UNRELEASED = "4.0.0"  # what 3.10-3.12's src/include/VERSION.h say
DESCRIBE_RE = re.compile(r"^v?(\d+(?:\.\d+)+)-(\d+)-g[0-9a-f]+$")


def tree_version(tree, describe=""):
    """The release tag of a git commit first: 3.10-3.12's VERSION.h says "4.0.0", a release
    that never was, so that header is believed only from 3.13 on (it says "3.13.0")."""
    if not (tree / "src" / "source" / "libhoard.cpp").is_file():
        raise StepFailed("not a Hoard tree: no src/source/libhoard.cpp")
    m = DESCRIBE_RE.match(describe or "")
    if m:
        return m.group(1)
    m = re.search(r'#define HOARD_VERSION_STRING "([^"]+)"',
                  read_text(tree / "src" / "include" / "VERSION.h"))
    if m and m.group(1) != UNRELEASED:
        return m.group(1)
    raise StepFailed("Hoard tree without a version: build a tagged commit of a git clone "
                     "(3.10-3.12's VERSION.h says 4.0.0, which is not their version)")


def build(ctx):
    src = ctx.src / "src"
    if not (src / "Heap-Layers" / "wrappers").is_dir():
        raise StepFailed("Hoard needs Heap-Layers in src/Heap-Layers (a submodule, or fetched "
                         "by its CMake build): give a tree that holds it (dir:DIR)")
    units = ["source/libhoard.cpp", "source/unixtls.cpp"]
    if not re.search(r"^GNU_SRC\s*=\s*\$\(UNIX_SRC\)\s*$", read_text(src / "GNUmakefile"), re.M):
        units.append("Heap-Layers/wrappers/gnuwrapper.cpp")
    ctx.build.mkdir(parents=True, exist_ok=True)
    cxx = ctx.env["CXX"].split()
    includes = [f"-I{src / d}" for d in (".", "include", "include/util", "include/hoard",
                                          "include/superblocks", "Heap-Layers")]
    objects = []
    for unit in units:
        obj = ctx.build / (unit.rsplit("/", 1)[-1].replace(".cpp", ".o"))
        ctx.run(*cxx, *FLAGS, *includes, "-c", src / unit, "-o", obj, cwd=src)
        objects.append(obj)
    ctx.run("ar", "rcs", ctx.build / "libhoard.a", *objects)
    ctx.run(*cxx, "-shared", "-pthread", "-o", ctx.build / "libhoard.so", *objects, "-ldl")
    return Artefacts(static=str(ctx.build / "libhoard.a"), shared=str(ctx.build / "libhoard.so"),
                     preload=str(ctx.build / "libhoard.so"), include=str(src / "include"))


FAMILY = Family(
    name="hoard", inprocess="none (Hoard has no version call)", decode=str,
    tree_version=tree_version,
    recipe=Recipe(build=build, options=FLAGS, upstream="https://github.com/emeryberger/Hoard",
                  static_name="libhoard.a", static_libs=("pthread", "dl", "stdc++")))
