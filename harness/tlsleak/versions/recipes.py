"""How each allocator is built from a source tree: one recipe per allocator, in one table.

A recipe says which modes the allocator supports, how its version is read from the tree (as
its project writes it), how the library reports its version in-process, and how to build its
artefacts. `BuildContext.run` runs each step with its output in the entry's build.log;
parallel (`-j`) and through ccache when it is installed.
"""

import dataclasses
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable, Optional

from tlsleak import paths

MODES = ("static", "dynamic", "override")


class StepFailed(Exception):
    """A build step exited non-zero, or the tree is not what the recipe builds; the log has
    the output. `infrastructure`: the step could not even start (a tool missing), which says
    nothing about the tree and is not remembered as its failure."""

    def __init__(self, message, infrastructure=False):
        super().__init__(message)
        self.infrastructure = infrastructure


@dataclasses.dataclass
class BuildContext:
    """What a recipe's build gets: the exported tree (src), a folder for out-of-tree builds,
    the log, parallelism and the compiler environment."""

    src: Path
    build: Path
    log: Path
    jobs: int
    env: dict
    ccache: bool
    describe: str = ""  # git describe of the commit, when the source is a git commit
    steps: list = dataclasses.field(default_factory=list)  # [program, seconds] per step

    def run(self, *cmd, cwd=None, env=None):
        start = time.monotonic()
        try:
            self._run(cmd, cwd, env)
        finally:
            took = round(time.monotonic() - start, 2)
            self.steps.append([Path(str(cmd[0])).name + (f" {cmd[1]}" if len(cmd) > 1 else ""),
                               took])
            with open(self.log, "a") as log:
                log.write(f"# {took} s\n")

    def _run(self, cmd, cwd, env):
        with open(self.log, "a") as log:
            log.write(f"$ (cd {cwd or self.src}) {' '.join(map(str, cmd))}\n")
            log.flush()
            try:
                proc = subprocess.run([str(c) for c in cmd], cwd=cwd or self.src,
                                      env={**self.env, **(env or {})}, stdout=log,
                                      stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            except OSError as e:
                log.write(f"{e}\n")
                raise StepFailed(f"{cmd[0]}: {e.strerror}", infrastructure=True) from None
        if proc.returncode != 0:
            raise StepFailed(f"{Path(str(cmd[0])).name} exited {proc.returncode}")

    def cmake_args(self):
        args = ["-DCMAKE_BUILD_TYPE=Release", f"-DCMAKE_C_COMPILER={self.env['CC'].split()[-1]}",
                f"-DCMAKE_CXX_COMPILER={self.env['CXX'].split()[-1]}"]
        if self.ccache:
            args += ["-DCMAKE_C_COMPILER_LAUNCHER=ccache", "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"]
        return args


@dataclasses.dataclass(frozen=True)
class Artefacts:
    """Files a build produced (absolute, inside the build tree); "" when not built."""

    static: str = ""
    shared: str = ""
    preload: str = ""
    include: str = ""


@dataclasses.dataclass(frozen=True)
class Recipe:
    name: str
    modes: tuple  # subset of MODES
    build: Callable[[BuildContext], Artefacts]
    tree_version: Callable[[Path, str], str]  # (tree, git describe) -> version
    options: tuple = ()  # what the build is configured with: part of the cache key
    debian_source: str = ""  # Debian source package name ("" when set-up does not fetch it)
    upstream: str = ""  # git URL of the upstream repository
    # How the library says its version in-process, and how that decodes to `version` form.
    inprocess: str = ""
    decode_inprocess: Optional[Callable] = None
    # Linking the static archive: "whole" (--whole-archive, the executable defines malloc) or
    # "plain" (plus `static_link_options`); system libraries it needs; repro/ targets to add.
    static_link: str = "whole"
    static_link_options: tuple = ()
    static_libs: tuple = ("pthread",)
    static_extra_targets: tuple = ()
    expect: str = ""  # the `alloc name=` its programs report (DESIGN.md section 3)


def _read(path):
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


def _single(pattern):
    """The one regular file matching `pattern` (a glob Path) that is not a symlink."""
    found = [p for p in sorted(pattern.parent.glob(pattern.name))
             if p.is_file() and not p.is_symlink()]
    if not found:
        raise StepFailed(f"no {pattern.name} after the build")
    return found[0]


# --- mimalloc ------------------------------------------------------------------------------

def mimalloc_decode(number):
    """MI_MALLOC_VERSION / mi_version() as mimalloc writes it. Its encoding changed: 209 is
    2.0.9 (major, minor, patch one digit each, up to v2.2.7 and v3.1.x), 3010 is 3.0.10 and
    3208 is 3.2.8 (patch two digits), 20300 is 2.3.0 and 30403 is 3.4.3 (minor and patch two
    digits each). The header's own comment beside the macro says which."""
    n = int(number)
    if n < 1000:
        return f"{n // 100}.{n // 10 % 10}.{n % 10}"
    if n < 10000:
        return f"{n // 1000}.{n // 100 % 10}.{n % 100}"
    return f"{n // 10000}.{n // 100 % 100}.{n % 100}"


def mimalloc_tree_version(tree, describe=""):
    # The CMake package version file states the three parts plainly in every release.
    text = _read(tree / "cmake" / "mimalloc-config-version.cmake")
    parts = [re.search(rf"set\(mi_version_{p}\s+(\d+)\)", text) for p in ("major", "minor", "patch")]
    if all(parts):
        return ".".join(m.group(1) for m in parts)
    m = re.search(r"^#define MI_MALLOC_VERSION\s+(\d+)", _read(tree / "include" / "mimalloc.h"), re.M)
    if m:
        return mimalloc_decode(m.group(1))
    raise StepFailed("not a mimalloc tree: no MI_MALLOC_VERSION in include/mimalloc.h")


def mimalloc_build(ctx):
    ctx.run("cmake", "-S", ctx.src, "-B", ctx.build, *ctx.cmake_args(), "-DMI_BUILD_TESTS=OFF",
            "-DMI_OVERRIDE=ON", "-DMI_BUILD_STATIC=ON", "-DMI_BUILD_SHARED=ON",
            "-DMI_BUILD_OBJECT=OFF", "-DMI_INSTALL_TOPLEVEL=ON")
    ctx.run("cmake", "--build", ctx.build, "-j", str(ctx.jobs))
    shared = _single(ctx.build / "libmimalloc.so*")
    return Artefacts(static=str(_single(ctx.build / "libmimalloc.a")), shared=str(shared),
                     preload=str(shared), include=str(ctx.src / "include"))


# --- jemalloc ------------------------------------------------------------------------------

def jemalloc_tree_version(tree, describe=""):
    # Release tarballs (and Debian's) carry VERSION; a git export has none, and configure's
    # own `git describe` cannot run there, so the commit's describe is passed in instead.
    version = _read(tree / "VERSION").strip()
    if version:
        return version
    if re.match(r"^\d+\.\d+\.\d+-\d+-g[0-9a-f]+$", describe or ""):
        return describe
    raise StepFailed("jemalloc tree without VERSION, and no git tag <major>.<minor>.<bugfix> "
                     "before this commit to describe it")


def jemalloc_build(ctx):
    if not (ctx.src / "configure").exists():
        ctx.run("autoconf")
    version_args = []
    if not (ctx.src / "VERSION").exists():
        version_args = [f"--with-version={jemalloc_tree_version(ctx.src, ctx.describe)}"]
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
    shared = _single(ctx.src / "lib" / "libjemalloc.so.*")
    return Artefacts(static=str(ctx.src / "lib" / "libjemalloc.a"), shared=str(shared),
                     preload=str(shared), include=str(ctx.src / "include" / "jemalloc"))


# --- gperftools tcmalloc -------------------------------------------------------------------

def gperftools_tree_version(tree, describe=""):
    for name in ("configure.ac", "configure.in"):
        m = re.search(r"AC_INIT\(\[gperftools\],\s*\[([^\]]+)\]", _read(tree / name))
        if m:
            return m.group(1)
    m = re.search(r"project\(gperftools[^)]*VERSION\s+([0-9.]+)", _read(tree / "CMakeLists.txt"))
    if m:
        return m.group(1)
    raise StepFailed("not a gperftools tree: no AC_INIT([gperftools], ...) in configure.ac")


def gperftools_decode(text):
    """tc_version()'s string, "gperftools 2.10" -> "2.10"."""
    return str(text).split()[-1]


def gperftools_build(ctx):
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
    shared = _single(libs / "libtcmalloc_minimal.so.*")
    return Artefacts(static=str(libs / "libtcmalloc_minimal.a"), shared=str(shared),
                     preload=str(shared), include=str(ctx.src / "src" / "gperftools"))


# --- oneTBB tbbmalloc ----------------------------------------------------------------------

def tbb_tree_version(tree, describe=""):
    text = _read(tree / "include" / "oneapi" / "tbb" / "version.h")
    parts = [re.search(rf"#define TBB_VERSION_{p}\s+(\d+)", text) for p in ("MAJOR", "MINOR", "PATCH")]
    if all(parts[:2]):
        return ".".join(m.group(1) for m in parts if m)
    raise StepFailed("not a oneTBB tree: no TBB_VERSION_MAJOR in include/oneapi/tbb/version.h")


def tbb_build(ctx):
    ctx.run("cmake", "-S", ctx.src, "-B", ctx.build, *ctx.cmake_args(), "-DTBB_TEST=OFF",
            "-DTBB_EXAMPLES=OFF", "-DTBB_STRICT=OFF", "-DTBBMALLOC_BUILD=ON",
            # The proxy needs libtbbmalloc.so.2: from beside it ($ORIGIN) once both are in the
            # cache entry, never the system's (the build folder is removed).
            "-DCMAKE_BUILD_RPATH_USE_ORIGIN=ON")
    ctx.run("cmake", "--build", ctx.build, "-j", str(ctx.jobs), "--target", "tbbmalloc",
            "tbbmalloc_proxy")
    proxy = _single(next(ctx.build.glob("*_release"), ctx.build) / "libtbbmalloc_proxy.so.*")
    return Artefacts(shared=str(proxy), preload=str(proxy), include=str(ctx.src / "include"))


# --- faulty (tlsleak's own) ----------------------------------------------------------------

FAULTY_VERSION_RE = re.compile(r'^#define FAULTY_VERSION "([^"]+)"', re.M)


def faulty_tree_version(tree, describe=""):
    # A history of faulty states its version in faulty.h; the project's own copy in
    # allocators/faulty/ gets it from allocators/faulty.cmake and is built by CMake itself.
    m = FAULTY_VERSION_RE.search(_read(tree / "faulty.h"))
    if m:
        return m.group(1)
    raise StepFailed('not a faulty tree with its version: no #define FAULTY_VERSION "x.y.z" '
                     "in faulty.h")


def faulty_build(ctx):
    ctx.build.mkdir(parents=True, exist_ok=True)
    cc = ctx.env["CC"].split()
    # Flags as allocators/faulty.cmake: no builtins, or calloc's malloc+memset becomes calloc.
    ctx.run(*cc, "-std=c11", "-O2", "-g", "-fPIC", "-fno-builtin", "-Wall", "-Wextra", "-Werror",
            "-c", ctx.src / "faulty.c", "-o", ctx.build / "faulty.o")
    ctx.run("ar", "rcs", ctx.build / "libfaulty.a", ctx.build / "faulty.o")
    ctx.run(*cc, "-shared", "-o", ctx.build / "libfaulty.so", ctx.build / "faulty.o", "-pthread")
    return Artefacts(static=str(ctx.build / "libfaulty.a"), shared=str(ctx.build / "libfaulty.so"),
                     preload=str(ctx.build / "libfaulty.so"), include=str(ctx.src))


RECIPES = {r.name: r for r in (
    Recipe(name="mimalloc", modes=MODES, build=mimalloc_build,
           tree_version=mimalloc_tree_version,
           options=("MI_OVERRIDE=ON", "MI_BUILD_STATIC=ON", "MI_BUILD_SHARED=ON", "Release"),
           debian_source="mimalloc", upstream="https://github.com/microsoft/mimalloc",
           inprocess="mi_version() (an int, decoded per mimalloc_decode)",
           decode_inprocess=mimalloc_decode,
           static_extra_targets=("tlsleak_mimalloc_exports",), expect="mimalloc"),
    Recipe(name="jemalloc", modes=MODES, build=jemalloc_build,
           tree_version=jemalloc_tree_version, options=("--disable-doc", "EXTRA_CFLAGS=-g2"),
           debian_source="jemalloc", upstream="https://github.com/jemalloc/jemalloc",
           inprocess='mallctl("version") (the VERSION string, e.g. 5.3.0-0-g54eaed1...)',
           decode_inprocess=str,
           # As the system package's static variant (allocators/jemalloc.cmake): a plain
           # archive, so its C++ operators come in only for C++ programs.
           static_link="plain", static_link_options=("-Wl,--undefined=malloc",),
           static_libs=("pthread", "dl", "m"), expect="jemalloc"),
    Recipe(name="tcmalloc", modes=MODES, build=gperftools_build,
           tree_version=gperftools_tree_version, options=("--enable-minimal",),
           debian_source="google-perftools", upstream="https://github.com/gperftools/gperftools",
           inprocess='tc_version(&major, &minor, &patch) (a string, "gperftools 2.10")',
           decode_inprocess=gperftools_decode, static_libs=("pthread", "stdc++", "m"),
           expect="tcmalloc"),
    # oneTBB's source package is large (tests, docs, python bindings) and set-up does not
    # fetch it: point a clone or tarball at it. Only the proxy overrides malloc.
    Recipe(name="tbbmalloc", modes=("override",), build=tbb_build,
           tree_version=tbb_tree_version,
           options=("tbbmalloc", "tbbmalloc_proxy", "Release", "RPATH=$ORIGIN"),
           upstream="https://github.com/uxlfoundation/oneTBB",
           inprocess="none (tbbmalloc has no version call)", expect="tbbmalloc"),
    Recipe(name="faulty", modes=MODES, build=faulty_build, tree_version=faulty_tree_version,
           options=("-O2", "-fno-builtin"), inprocess="faulty_version() (a string)",
           decode_inprocess=str, expect="faulty"),
)}


def recipe(name):
    """The recipe of allocator `name`; KeyError names the known ones."""
    try:
        return RECIPES[name]
    except KeyError:
        raise KeyError(f"no recipe to build '{name}' from source "
                       f"(known: {', '.join(sorted(RECIPES))})") from None


def compiler_env():
    """CC/CXX for the builds (the user's, else cc/c++), through ccache when it is installed."""
    cc, cxx = os.environ.get("CC", "cc"), os.environ.get("CXX", "c++")
    ccache = shutil.which("ccache") is not None and os.environ.get("TLSLEAK_NO_CCACHE") != "1"
    env = dict(os.environ, LC_ALL="C")
    # One compiler cache per checkout, kept by `cache prune` (a cold jemalloc takes minutes).
    env.setdefault("CCACHE_DIR", str(paths.state() / ".cache" / "ccache"))
    env["CC"], env["CXX"] = (f"ccache {cc}", f"ccache {cxx}") if ccache else (cc, cxx)
    return env, ccache


def compiler_id(env):
    """e.g. "gcc 12.2.0 (gcc (Debian 12.2.0-14) 12.2.0)": part of every cache key; None when
    the compiler cannot be run."""
    cc = env["CC"].split()[-1]
    try:
        version = subprocess.run([cc, "-dumpfullversion", "-dumpversion"], capture_output=True,
                                 text=True, check=True).stdout.strip()
        first = subprocess.run([cc, "--version"], capture_output=True, text=True,
                               check=True).stdout.splitlines()[0]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return None
    return f"{Path(cc).name} {version} ({first})"
