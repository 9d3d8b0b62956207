"""faulty, tlsleak's own allocator (allocators/faulty/): its version is FAULTY_VERSION, which
faulty_version() returns at run time as it is. The project's own copy is built by CMake itself
(allocators/faulty.cmake); a history of faulty (a clone, as the tests script one) is built by
this recipe."""
import re

from tlsleak.families import Family
from tlsleak.families.recipe import Artefacts, Recipe, StepFailed, read_text

VERSION_RE = re.compile(r'^#define FAULTY_VERSION "([^"]+)"', re.M)


def tree_version(tree, describe=""):
    m = VERSION_RE.search(read_text(tree / "faulty.h"))
    if m:
        return m.group(1)
    raise StepFailed('not a faulty tree with its version: no #define FAULTY_VERSION "x.y.z" '
                     "in faulty.h")


def build(ctx):
    ctx.build.mkdir(parents=True, exist_ok=True)
    cc = ctx.env["CC"].split()
    # Flags as allocators/faulty.cmake: no builtins, or calloc's malloc+memset becomes calloc.
    ctx.run(*cc, "-std=c11", "-O2", "-g", "-fPIC", "-fno-builtin", "-Wall", "-Wextra", "-Werror",
            "-c", ctx.src / "faulty.c", "-o", ctx.build / "faulty.o")
    ctx.run("ar", "rcs", ctx.build / "libfaulty.a", ctx.build / "faulty.o")
    ctx.run(*cc, "-shared", "-o", ctx.build / "libfaulty.so", ctx.build / "faulty.o", "-pthread")
    return Artefacts(static=str(ctx.build / "libfaulty.a"), shared=str(ctx.build / "libfaulty.so"),
                     preload=str(ctx.build / "libfaulty.so"), include=str(ctx.src))


FAMILY = Family(name="faulty", inprocess="faulty_version(): a string", decode=str,
                tree_version=tree_version,
                recipe=Recipe(build=build, options=("-O2", "-fno-builtin")))
