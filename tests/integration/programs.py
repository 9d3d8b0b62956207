"""The probe library and the ordinary programs of tests/programs/, built once per session by the
project's own CMake (targets named in the manifest and tests/programs/CMakeLists.txt)."""
import os
from pathlib import Path

import pytest

from tlsleak.build import Build

# Allocators that replace malloc when preloaded, as override configurations run them; a test
# using one is skipped where its library is not installed.
OVERRIDES = {
    "mimalloc": "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2",
    "jemalloc": "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
}


class Built:
    def __init__(self, manifest, build_dir):
        self.manifest = manifest
        self.probe = manifest["probe"]["library"]
        self.bin = Path(build_dir) / "bin" / "programs"

    def program(self, name, static=False):
        return str(self.bin / (name + (".static" if static else "")))


def build_programs():
    build = Build()
    manifest = build.configure()
    if not manifest.get("probe"):
        pytest.skip("no probe on this platform (manifest: probe is null)")
    build.build([manifest["probe"]["target"], "tlsleak_test_programs"], jobs=2)
    return Built(manifest, build.dir)


def override(name):
    path = OVERRIDES[name]
    if not os.path.isfile(path):
        pytest.skip(f"{name} is not installed here ({path})")
    return path
