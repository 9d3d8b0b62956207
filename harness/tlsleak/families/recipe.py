"""What a recipe is: how one allocator family builds a source tree into its artefacts, and the
context every build step runs in (the exported tree, a scratch folder, the log, the compiler
and the machine it compiles for). The recipes themselves are in the families' modules; the
cache that runs them is versions/cache.py.

`BuildContext.run` runs each step with its output in the entry's build.log, parallel (`-j`)
and through ccache when it is installed.
"""
import dataclasses
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable

from tlsleak.identity import MODES


class StepFailed(Exception):
    """A build step exited non-zero, or the tree is not what the recipe builds; the log has
    the output. `infrastructure`: the step could not even start (a tool missing), which says
    nothing about the tree and is not remembered as its failure."""

    def __init__(self, message, infrastructure=False):
        super().__init__(message)
        self.infrastructure = infrastructure


@dataclasses.dataclass(frozen=True)
class Toolchain:
    """The compilers a source build uses and the system they build for: the host's (the
    user's CC/CXX, else cc/c++) unless a platform names its own (platforms/: Wine's is
    mingw-w64 with cmake/mingw-w64.cmake). The machine they build for is part of every cache
    key (compiler_id), so a tree built for two targets is two entries."""

    os: str = ""  # "" the host's; "windows" for a MinGW cross-build
    cc: str = ""  # "" the user's CC, else cc
    cxx: str = ""
    cmake_args: tuple = ()  # what a CMake build of the tree is configured with besides


HOST = Toolchain()


@dataclasses.dataclass
class BuildContext:
    """What a recipe's build gets: the exported tree (src), a folder for out-of-tree builds,
    the log, parallelism, the compiler environment, and the tree's version (as read before
    the build by the family's `tree_version`)."""

    src: Path
    build: Path
    log: Path
    jobs: int
    env: dict
    ccache: bool
    describe: str = ""  # git describe of the commit, when the source is a git commit
    version: str = ""
    toolchain: Toolchain = HOST
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
        return args + list(self.toolchain.cmake_args)

    @property
    def windows(self):
        return self.toolchain.os == "windows"


@dataclasses.dataclass(frozen=True)
class Artefacts:
    """Files a build produced (absolute, inside the build tree); "" when not built."""

    static: str = ""
    shared: str = ""
    preload: str = ""
    include: str = ""


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How a family's tree is built, and how programs link what it makes."""

    build: Callable[[BuildContext], Artefacts]
    options: tuple = ()  # what the build is configured with: part of the cache key
    debian_source: str = ""  # Debian source package name ("" when set-up does not fetch it)
    upstream: str = ""  # git URL of the upstream repository
    # The static archive's file name, known before building (a Debian tree's configuration is
    # listed before it is built: versions/debian.py); "" when only the build tells.
    static_name: str = ""
    shared_name: str = ""  # the same for the shared library, where a target links it by name
    # Linking the static archive: "whole" (--whole-archive, the executable defines malloc) or
    # "plain" (plus `static_link_options`); system libraries it needs; repro/ targets to add.
    static_link: str = "whole"
    static_link_options: tuple = ()
    static_libs: tuple = ("pthread",)
    static_extra_targets: tuple = ()
    # How programs reach the allocator: "malloc" (it serves malloc) or "api" (the programs'
    # allocations are routed to its own functions: DESIGN.md "route").
    route: str = "malloc"
    # Per target system ("windows"): the fields above that differ there (options, link, route).
    targets: dict = dataclasses.field(default_factory=dict)

    def for_os(self, os_name):
        """This recipe as it builds and links for target system `os_name`."""
        return dataclasses.replace(self, **self.targets.get(os_name, {}))


def read_text(path):
    """A file's text, "" when it cannot be read."""
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


def single(pattern):
    """The one regular file matching `pattern` (a glob Path) that is not a symlink."""
    found = [p for p in sorted(pattern.parent.glob(pattern.name))
             if p.is_file() and not p.is_symlink()]
    if not found:
        raise StepFailed(f"no {pattern.name} after the build")
    return found[0]


def compiler_env(root, toolchain=HOST):
    """CC/CXX for the builds (the toolchain's; the host's: the user's, else cc/c++), through
    ccache when it is installed; ccache's store is the checkout's (`root`/.cache/ccache)."""
    cc = toolchain.cc or os.environ.get("CC", "cc")
    cxx = toolchain.cxx or os.environ.get("CXX", "c++")
    ccache = shutil.which("ccache") is not None and os.environ.get("TLSLEAK_NO_CCACHE") != "1"
    env = dict(os.environ, LC_ALL="C")
    # One compiler cache per checkout, kept by `cache prune` (a cold jemalloc takes minutes).
    env.setdefault("CCACHE_DIR", str(Path(root) / ".cache" / "ccache"))
    env["CC"], env["CXX"] = (f"ccache {cc}", f"ccache {cxx}") if ccache else (cc, cxx)
    return env, ccache


def _output(*cmd):
    return subprocess.run(list(cmd), capture_output=True, text=True, check=True,
                          stdin=subprocess.DEVNULL).stdout


def compiler_id(env):
    """(compiler, target): e.g. ("gcc 12.2.0 (gcc (Debian 12.2.0-14) 12.2.0)",
    "x86_64-linux-gnu"), both parts of every cache key (a MinGW build of one tree is another
    entry); None when the compiler cannot be run."""
    cc = env["CC"].split()[-1]
    try:
        version = _output(cc, "-dumpfullversion", "-dumpversion").strip()
        first = _output(cc, "--version").splitlines()[0]
        machine = _output(cc, "-dumpmachine").strip()
    except (OSError, subprocess.CalledProcessError, IndexError):
        return None
    return f"{Path(cc).name} {version} ({first})", machine


def target_os(machine):
    """The target system a compiler's machine (cc -dumpmachine) builds for: "windows" for
    x86_64-w64-mingw32, "" (the host's kind) otherwise."""
    return "windows" if "mingw" in machine or "windows" in machine else ""


__all__ = ["Artefacts", "BuildContext", "HOST", "MODES", "Recipe", "StepFailed", "Toolchain",
           "compiler_env", "compiler_id", "read_text", "single", "target_os"]
