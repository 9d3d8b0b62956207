"""What the Wine tests need (mingw-w64's compilers, wine64), and what it means when one is
missing: where the test command's set-up can install them (`ci/setup.sh test`, apt-get), a
missing tool is a failure of that set-up, never a skipped test; elsewhere (no apt-get: not a
Debian or Ubuntu machine) the Wine tests are skipped, saying why.

Use: `from winetools import PYTESTMARK as pytestmark, wine_tools  # noqa: F401`."""
import os
import shutil
from pathlib import Path

import pytest

WINE64 = Path("/usr/lib/wine/wine64")
WINESERVER = Path("/usr/lib/wine/wineserver")
COMPILER = "x86_64-w64-mingw32-gcc-posix"
# The harness's prefix (platforms/wine.py), or the one TLSLEAK_WINEPREFIX names.
PREFIX = Path(os.environ.get("TLSLEAK_WINEPREFIX")
              or Path(__file__).resolve().parents[2] / ".cache" / "wine")


def missing():
    """The tools not installed, as the set-up's package names."""
    return [pkg for pkg, ok in (("wine64", WINE64.exists()),
                                ("mingw-w64", shutil.which(COMPILER) is not None)) if not ok]


APT = shutil.which("apt-get") is not None
PYTESTMARK = [
    pytest.mark.integration,
    pytest.mark.skipif(bool(missing()) and not APT,
                       reason=f"no apt-get to install {' '.join(missing())} (ci/setup.sh test)"),
]


@pytest.fixture(autouse=True)
def wine_tools():
    """Fails every Wine test where set-up should have installed the tools and did not."""
    if missing():
        pytest.fail(f"{' and '.join(missing())} not installed: the test command's set-up "
                    f"(ci/setup.sh test) installs them with apt-get")
