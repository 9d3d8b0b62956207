"""The repro's C programs built against musl with Debian's musl-gcc (cmake/musl.cmake) into their
own tree and run natively. They link musl dynamically (musl-gcc's default, as on Alpine): each
starts under musl's loader, whose libc.so defines malloc, so the `system` configuration is
musl's own malloc (mallocng) and every cell checks that malloc comes from that file. Debian has
no musl C++ library: the C++ scenarios are listed unavailable (the manifest says why)."""
import os
import shutil
from contextlib import nullcontext
from dataclasses import replace

from tlsleak import InfraError, paths
from tlsleak.families.recipe import Toolchain

NAME = "musl"
BUILD_DIR = "build-musl"
CMAKE_ARGS = ("-DCMAKE_TOOLCHAIN_FILE={root}/cmake/musl.cmake",)
SETUP_PROFILE = "run"  # musl-tools is in ci/setup.sh's run profile: no profile of its own
MAX_JOBS = None
ROOT = paths.SOURCE  # the toolchain file (paths.py)
COMPILER = "musl-gcc"
# musl's dynamic loader, named by musl-gcc's specs; a program cannot start without it.
LOADER = f"/lib/ld-musl-{os.uname().machine}.so.1"
# Allocators built from source for the programs: the same compiler and toolchain file (a C++
# allocator does not build: musl-gcc has no C++ library).
TOOLCHAIN = Toolchain(cc=COMPILER, cxx=COMPILER,
                      cmake_args=tuple(a.format(root=ROOT) for a in CMAKE_ARGS))


def cmake_args():
    return [a.format(root=ROOT) for a in CMAKE_ARGS]


def check():
    missing = [what for what, ok in (
        (f"{COMPILER} (apt-get install musl-tools, or ci/setup.sh run)",
         shutil.which(COMPILER) is not None),
        (f"musl's loader {LOADER} (apt-get install musl)", os.path.exists(LOADER))) if not ok]
    if missing:
        raise InfraError(f"--platform musl needs {' and '.join(missing)}")


def target(tgt):
    if tgt.os not in ("", "linux") or tgt.launcher:
        raise InfraError(f"--platform musl: the build tree is not a native Linux build "
                         f"(os {tgt.os!r}, launcher {list(tgt.launcher)})")
    return replace(tgt, platform=NAME)


def running(tgt):
    return nullcontext()


def describe_exit(returncode, end):
    return None  # the host's own reading (host.describe_exit): the programs run natively
