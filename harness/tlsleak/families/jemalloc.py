"""jemalloc (jemalloc/jemalloc): its version is the string `git describe` gave when it was
configured (5.3.0-0-g54eaed1d...), in the tree's VERSION file and returned at run time by
mallctl("version") unchanged."""
import re

from tlsleak.families import Family
from tlsleak.families.recipe import Artefacts, Recipe, StepFailed, read_text, single


def tree_version(tree, describe=""):
    # Release tarballs (and Debian's) carry VERSION; a git export has none, and configure's
    # own `git describe` cannot run there, so the commit's describe is passed in instead.
    version = read_text(tree / "VERSION").strip()
    if version:
        return version
    if re.match(r"^\d+\.\d+\.\d+-\d+-g[0-9a-f]+$", describe or ""):
        return describe
    raise StepFailed("jemalloc tree without VERSION, and no git tag <major>.<minor>.<bugfix> "
                     "before this commit to describe it")


def build(ctx):
    if not (ctx.src / "configure").exists():
        ctx.run("autoconf")
    version_args = []
    if not (ctx.src / "VERSION").exists():
        version_args = [f"--with-version={ctx.version}"]
    # Defaults otherwise, as Debian builds it: unprefixed malloc (so it overrides, linked or
    # preloaded), initial-exec TLS (fine for linking and LD_PRELOAD; only a dlopen of
    # jemalloc itself would need --disable-initial-exec-tls).
    # jemalloc always compiles with -g3, which puts every macro in the debug info, its
    # version string too: ccache then misses on every file at every commit. EXTRA_CFLAGS
    # come last, and -g2 (the usual debug level) lets unchanged files hit again.
    ctx.run("./configure", "--disable-doc", *version_args,
            env={"CC": ctx.env["CC"], "CXX": ctx.env["CXX"], "EXTRA_CFLAGS": "-g2",
                 "EXTRA_CXXFLAGS": "-g2"})
    ctx.run("make", f"-j{ctx.jobs}", "build_lib_static", "build_lib_shared")
    shared = single(ctx.src / "lib" / "libjemalloc.so.*")
    return Artefacts(static=str(ctx.src / "lib" / "libjemalloc.a"), shared=str(shared),
                     preload=str(shared), include=str(ctx.src / "include" / "jemalloc"))


FAMILY = Family(
    name="jemalloc", inprocess='mallctl("version"): the VERSION string, 5.3.0-0-g54eaed1d...',
    decode=str, tree_version=tree_version,
    recipe=Recipe(build=build, options=("--disable-doc", "EXTRA_CFLAGS=-g2"),
                  debian_source="jemalloc", upstream="https://github.com/jemalloc/jemalloc",
                  # As the system package's static variant (allocators/jemalloc.cmake): a plain
                  # archive, so its C++ operators come in only for C++ programs.
                  static_link="plain", static_link_options=("-Wl,--undefined=malloc",),
                  static_libs=("pthread", "dl", "m")))
