"""CMake reads an allocator's version by the same rule as the harness (harness/tlsleak/families/):
every real MI_MALLOC_VERSION of microsoft/mimalloc's releases (tests/data/allocator-versions.json)
decodes alike through cmake/tlsleak_config.cmake's tlsleak_decode_version, as the packaged
mimalloc's header is read at configure time, and through families.mimalloc.decode, as the
running library's mi_version() is read from its alloc line."""
import json
import subprocess
from pathlib import Path

import pytest

from tlsleak.families import mimalloc

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DATA = json.loads((ROOT / "tests" / "data" / "allocator-versions.json").read_text())


def test_cmake_and_the_harness_decode_every_mimalloc_release_alike(tmp_path):
    numbers = sorted({r["MI_MALLOC_VERSION"] for r in DATA["mimalloc"]["releases"]})
    script = tmp_path / "decode.cmake"
    script.write_text(
        f'include("{ROOT}/cmake/tlsleak_config.cmake")\n'
        f'foreach(n {" ".join(map(str, numbers))})\n'
        f'  tlsleak_decode_version(v "${{n}}" "{ROOT}/allocators/mimalloc-version.json")\n'
        '  message("${n}=${v}")\n'
        'endforeach()\n')
    out = subprocess.run(["cmake", "-P", str(script)], capture_output=True, text=True,
                         check=True).stderr
    by_cmake = dict(line.split("=") for line in out.splitlines() if "=" in line)
    assert {int(n): v for n, v in by_cmake.items()} == {n: mimalloc.decode(n) for n in numbers}
    # and the versions the releases name (the data's), not merely the same answer twice
    for release in DATA["mimalloc"]["releases"]:
        assert by_cmake[str(release["MI_MALLOC_VERSION"])] == release["version"], release["tag"]
