"""rpmalloc (mjansson/rpmalloc): its version is RPMALLOC_VERSION in rpmalloc/rpmalloc.h (2.0+),
else the first line of its CHANGELOG (1.x: "1.4.5"). No run-time version call.

The recipe needs no build system (rpmalloc's own writes ninja files): rpmalloc.c compiled with
its malloc override (ENABLE_OVERRIDE) and its thread hooks (ENABLE_PRELOAD: in 1.x the key
whose destructor finalises a thread's heap, without which no thread's heap is ever finalised),
plus malloc.c as a unit of its own in 1.1-1.3 (1.4+ includes it). 1.0 has no override."""
import re

from tlsleak.families import Family
from tlsleak.families.recipe import Artefacts, Recipe, StepFailed, read_text

DEFINES = ("-DENABLE_OVERRIDE=1", "-DENABLE_PRELOAD=1", "-DNDEBUG")


def tree_version(tree, describe=""):
    header = read_text(tree / "rpmalloc" / "rpmalloc.h")
    if not header:
        raise StepFailed("not an rpmalloc tree: no rpmalloc/rpmalloc.h")
    m = re.search(r'#define RPMALLOC_VERSION "([^"]+)"', header)
    if m:
        return m.group(1)
    first = read_text(tree / "CHANGELOG").strip().splitlines()[:1]
    if first and re.fullmatch(r"\d+(\.\d+)+", first[0].strip()):
        return first[0].strip()
    raise StepFailed("rpmalloc tree without a version: no RPMALLOC_VERSION in rpmalloc.h and "
                     "no version on CHANGELOG's first line")


def build(ctx):
    src = ctx.src / "rpmalloc"
    if "malloc(" not in read_text(src / "malloc.c"):
        raise StepFailed("this rpmalloc has no malloc override (rpmalloc/malloc.c): 1.1 or later")
    ctx.build.mkdir(parents=True, exist_ok=True)
    cc = ctx.env["CC"].split()
    units = ["rpmalloc.c"]
    if '#include "malloc.c"' not in read_text(src / "rpmalloc.c"):
        units.append("malloc.c")
    objects = []
    for unit in units:
        obj = ctx.build / unit.replace(".c", ".o")
        ctx.run(*cc, "-std=gnu11", "-O2", "-g", "-fPIC", "-pthread", *DEFINES, "-c",
                src / unit, "-o", obj)
        objects.append(obj)
    ctx.run("ar", "rcs", ctx.build / "librpmalloc.a", *objects)
    ctx.run(*cc, "-shared", "-pthread", "-o", ctx.build / "librpmalloc.so", *objects, "-ldl")
    return Artefacts(static=str(ctx.build / "librpmalloc.a"),
                     shared=str(ctx.build / "librpmalloc.so"),
                     preload=str(ctx.build / "librpmalloc.so"), include=str(src))


FAMILY = Family(
    name="rpmalloc", inprocess="none (rpmalloc has no version call)", decode=str,
    tree_version=tree_version,
    recipe=Recipe(build=build, options=DEFINES + ("-O2",),
                  upstream="https://github.com/mjansson/rpmalloc",
                  static_name="librpmalloc.a", static_libs=("pthread", "dl")))
