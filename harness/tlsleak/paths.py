"""Where tlsleak finds the project's sources and where it writes: the one home of both.

- SOURCE: CMakeLists.txt, cmake/, allocators/, repro/, probe/, include/ (what CMake builds the
  programs from). From a checkout (./tlsleak, PYTHONPATH=harness, an editable install) it is
  the checkout; installed (`pip install .`) it is the copy shipped in the package,
  tlsleak/_project/ (setup.py puts it there).
- state(): where build/, .cache/ (allocator builds, sources, ccache) and results/ go. From a
  checkout, the checkout itself, as always; installed, a folder of the user's, since the
  package's own may not be writable: $TLSLEAK_HOME, else $XDG_CACHE_HOME/tlsleak, else
  ~/.cache/tlsleak. TLSLEAK_BUILD_DIR still names the build tree alone (build.py)."""
import os
import shutil
import sys
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
BUNDLED = _PACKAGE / "_project"  # setup.py's copy of the sources in an installed package


def _checkout():
    root = _PACKAGE.parents[1]
    if (root / "CMakeLists.txt").is_file() and (root / "harness" / "tlsleak").is_dir():
        return root
    return None


CHECKOUT = _checkout()  # None when installed
SOURCE = CHECKOUT or BUNDLED


def state():
    """The folder build/, .cache/ and results/ live in (read at each call: the environment
    may name another)."""
    if CHECKOUT is not None:
        return CHECKOUT
    if os.environ.get("TLSLEAK_HOME"):
        return Path(os.environ["TLSLEAK_HOME"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "tlsleak"


def launcher():
    """The command that starts tlsleak: this checkout's ./tlsleak, else the installed console
    script (beside this interpreter, else on PATH)."""
    if CHECKOUT is not None:
        return str(CHECKOUT / "tlsleak")
    beside = Path(sys.executable).parent / "tlsleak"
    return str(beside) if beside.is_file() else shutil.which("tlsleak") or "tlsleak"
