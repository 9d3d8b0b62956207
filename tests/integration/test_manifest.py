"""build/manifest.json is written with CMake's JSON functions (cmake/tlsleak_manifest.cmake): it
is valid JSON whose strings are exactly the paths and words CMake had, whatever they hold
(quotes, backslashes, spaces, non-ASCII, a tab), for a native build and for the MinGW
cross-build. Real CMake configure steps, nothing built."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ODD = 'x "quoted" \\back\\slash\\ sp ace ünï\ttab $dollar #hash'


def _configure(build, *args):
    subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build), *args], check=True,
                   capture_output=True, timeout=900)
    return json.loads((build / "manifest.json").read_text())


def _built_file(build):
    entry = f"/abs/{ODD}/faulty"
    build.mkdir(parents=True)
    (build / "tlsleak-built.json").write_text(json.dumps({"format": 1, "allocators": [{
        "name": "faulty", "version": "1.1.0", "label": "1.1.0+g4a188e5",
        "commit": "4a188e553a55" + "0" * 28, "source": f"git:{ODD}@v1.1.0",
        "modes": ["static", "dynamic", "override"], "static_lib": f"{entry}/lib/libfaulty.a",
        "shared_lib": f"{entry}/lib/libfaulty.so", "preload_lib": f"{entry}/lib/libfaulty.so",
        "include_dir": f"{entry}/include", "static_link": "whole", "static_link_options": [],
        "static_libs": ["pthread"], "static_extra_targets": [], "expect": "faulty",
        "entry": entry}]}))


@pytest.mark.parametrize("toolchain", [None, "mingw-w64.cmake"])
def test_the_manifest_holds_every_string_as_cmake_had_it(tmp_path, toolchain):
    if toolchain and not shutil.which("x86_64-w64-mingw32-gcc-posix"):
        pytest.skip("no mingw-w64 here (ci/setup.sh wine installs it)")
    build = tmp_path / "build sp ace ünï"
    _built_file(build)
    args = [f"-DCMAKE_TOOLCHAIN_FILE={ROOT / 'cmake' / toolchain}"] if toolchain else []
    manifest = _configure(build, *args)
    configs = {c["id"]: c for c in manifest["configs"]}
    static = configs["faulty@1.1.0+g4a188e5:static"]
    assert static["source"] == f"git:{ODD}@v1.1.0" and static["origin"] == f"built from git:{ODD}@v1.1.0"
    assert static["library"] == f"/abs/{ODD}/faulty/lib/libfaulty.a"
    if toolchain:  # Windows has no library preloading: its override is `redirect`, mimalloc's
        assert "faulty@1.1.0+g4a188e5:override" not in configs
    else:
        override = configs["faulty@1.1.0+g4a188e5:override"]
        assert override["preload"] == f"/abs/{ODD}/faulty/lib/libfaulty.so"
    assert static["bin_dir"] == str(build / "bin" / "faulty-1.1.0+g4a188e5-static")
    assert all(isinstance(c["available"], bool) for c in manifest["configs"])
    assert manifest["format"] == 1 and manifest["scenarios"] and manifest["build"]["system"]
    target = manifest["target"]
    if toolchain:
        assert (target["os"], target["suffix"], target["preload_var"]) == ("windows", ".exe", "")
        assert target["launcher_env"] == {"WINEDEBUG": "-all",
                                          "WINEDLLOVERRIDES": "mscoree,mshtml="} \
            or not target["launcher"]
        assert manifest["probe"] is None
    else:
        assert (target["os"], target["preload_var"], target["launcher"]) == (
            "linux", "LD_PRELOAD", [])
        assert manifest["probe"]["library"] == str(build / "lib" / "libtlsleak_probe.so")
