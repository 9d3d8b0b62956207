"""The probe library and the ordinary programs of tests/programs/, built once per session by the
project's own CMake (targets named in the manifest and tests/programs/CMakeLists.txt), and the
override configurations of the manifest (their preload libraries) to run them under."""
from pathlib import Path

import pytest

from tlsleak.build import Build

# Allocator names with an `override` configuration; a test using one that is unavailable here
# is skipped with the manifest's reason.
OVERRIDE_NAMES = ["mimalloc", "jemalloc", "tcmalloc", "tbbmalloc", "faulty"]


class Built:
    def __init__(self, manifest, build_dir):
        self.manifest = manifest
        self.probe = manifest["probe"]["library"]
        self.sampler = manifest["probe"]["sampler"]
        self.bin = Path(build_dir) / "bin" / "programs"

    def program(self, name, static=False):
        return str(self.bin / (name + (".static" if static else "")))

    def overrides(self):
        """{allocator name: its override configuration} (the first of each name)."""
        out = {}
        for c in self.manifest["configs"]:
            if c["mode"] == "override":
                out.setdefault(c["name"], c)
        return out

    def override(self, name):
        """The preload library of `name`'s override configuration, or skip the test."""
        config = self.overrides().get(name)
        if config is None or not config["available"]:
            pytest.skip(f"{name}:override unavailable here: "
                        f"{config['reason'] if config else 'not in the manifest'}")
        return config["preload"]


def build_programs():
    build = Build()
    manifest = build.configure()
    if not manifest.get("probe"):
        pytest.skip("no probe on this platform (manifest: probe is null)")
    built = Built(manifest, build.dir)
    targets = [c["target"] for c in built.overrides().values() if c["available"]]
    manifest = build.build([manifest["probe"]["target"], manifest["probe"]["sampler_target"],
                            "tlsleak_test_programs", *targets], jobs=2)
    return Built(manifest, build.dir)
