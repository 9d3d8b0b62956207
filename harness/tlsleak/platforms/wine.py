"""Windows programs cross-built with mingw-w64 (cmake/mingw-w64.cmake) into their own tree
and run under Wine, in a prefix the harness owns (.cache/wine, made once by
ci/wine-prefix.sh). One persistent wineserver serves every cell: started before the first,
with no pipe of ours attached (Wine's services outlive the program that starts them and would
hold a reader's pipe open), and stopped after the last, interrupt or not.

The pid the harness starts is the Windows process: wine64 execs its preloader in place, so
sampling it samples the program."""
import os
import shutil
import subprocess
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from tlsleak import InfraError, paths
from tlsleak.families.recipe import Toolchain

NAME = "wine"
BUILD_DIR = "build-wine"
CMAKE_ARGS = ("-DCMAKE_TOOLCHAIN_FILE={root}/cmake/mingw-w64.cmake",)
SETUP_PROFILE = "wine"
# One cell at a time: a Wine process killed (its verdict settled) while another runs on the
# same wineserver has left that other one stalled for good (seen at ~775 of 1000 threads).
MAX_JOBS = 1

ROOT = paths.SOURCE  # the toolchain file and ci/wine-prefix.sh (paths.py)
# The harness's own prefix; TLSLEAK_WINEPREFIX names another (a second run at once: Wine keeps
# one wineserver per prefix, and each run stops its own at the end).
PREFIX = Path(os.environ.get("TLSLEAK_WINEPREFIX") or paths.state() / ".cache" / "wine")
WINE64 = os.environ.get("TLSLEAK_WINE64", "/usr/lib/wine/wine64")
WINESERVER = os.environ.get("TLSLEAK_WINESERVER", "/usr/lib/wine/wineserver")
COMPILER = "x86_64-w64-mingw32-gcc-posix"
# Allocators built from source for the programs: the same compilers and toolchain file.
TOOLCHAIN = Toolchain(os="windows", cc=COMPILER, cxx="x86_64-w64-mingw32-g++-posix",
                      cmake_args=tuple(a.format(root=ROOT) for a in CMAKE_ARGS))
_QUIET = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
# Wine ends a process on an unhandled exception with the low byte of its code as the status
# (ci/wine-prefix.sh turns the debugger off): 5 for 0xC0000005.
_EXCEPTIONS = {0x05: "0xC0000005 access violation", 0xFD: "0xC00000FD stack overflow",
               0x1D: "0xC000001D illegal instruction", 0x94: "0xC0000094 integer divide by zero",
               0x03: "0x80000003 breakpoint", 0x09: "0xC0000409 stack buffer overrun"}


def cmake_args():
    return [a.format(root=ROOT) for a in CMAKE_ARGS]


def check():
    missing = [what for what, ok in (
        ("wine64 (apt-get install wine64, or ci/setup.sh wine)", os.access(WINE64, os.X_OK)),
        ("mingw-w64 (apt-get install mingw-w64, or ci/setup.sh wine)",
         shutil.which(COMPILER) is not None)) if not ok]
    if missing:
        raise InfraError(f"--platform wine needs {' and '.join(missing)}")


def env():
    return {"WINEPREFIX": str(PREFIX)}


def target(tgt):
    if tgt.os not in ("", "windows") or not tgt.launcher:
        raise InfraError(f"--platform wine: the build tree is not a Windows cross-build run "
                         f"under Wine (os {tgt.os!r}, launcher {list(tgt.launcher)})")
    return replace(tgt, launcher_env=tuple(sorted({**dict(tgt.launcher_env), **env()}.items())),
                   platform=NAME)


def _env(tgt):
    return {**os.environ, **dict(tgt.launcher_env)}


@contextmanager
def running(tgt):
    """The prefix (once) and one wineserver for the cells; `wineserver -k` after, always."""
    e = _env(tgt)
    made = subprocess.run([str(ROOT / "ci" / "wine-prefix.sh")], env=e, capture_output=True,
                          text=True)
    if made.returncode != 0:
        raise InfraError(f"ci/wine-prefix.sh failed (exit {made.returncode}): "
                         f"{(made.stderr or made.stdout).strip()[-300:]}")
    try:  # `wineserver -k` in every case: an error, an interrupt, or the cells' end
        try:
            subprocess.run([WINESERVER, "-p"], env=e, check=True, timeout=60, **_QUIET)
            # Wine's services start with the first program: start them here, with no pipe of
            # ours, so no cell's reader waits on them and each program starts in ~0.1 s.
            subprocess.run([WINE64, "wineboot"], env=e, check=True, timeout=180, **_QUIET)
        except (OSError, subprocess.SubprocessError) as err:
            raise InfraError(f"cannot start the wineserver: {err}") from None
        yield
    finally:
        subprocess.run([WINESERVER, "-k"], env=e, timeout=60, **_QUIET)


def describe_exit(returncode, end):
    """A failing exit with no `end` line is an unhandled exception under Wine."""
    if returncode in (None, 0) or end is not None:
        return None
    code = returncode & 0xFF
    what = _EXCEPTIONS.get(code, f"exception code ending 0x{code:02X}")
    return "crash", f"unhandled exception under Wine (exit status {returncode}: {what})"
