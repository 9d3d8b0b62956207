"""repro/prim/linux.c builds with musl as well as glibc (musl has no dladdr1 and no version
call): the repro's C programs, compiled with Debian's musl-gcc (musl-tools, set-up's run
profile) statically and dynamically, say which file defines malloc and which libc they run on,
and the harness judges them like any program: a musl program that keeps one block per thread
leaks its block, one that frees it is ok. The musl version comes from musl's own loader."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from clihelp import ROOT, run_cli

pytestmark = pytest.mark.integration

REPRO = ROOT / "repro"
# What tlsleak_common holds (repro/CMakeLists.txt), less the C++ and Windows-only parts.
COMMON = ["common/allocid.c", "common/args.c", "common/block.c", "common/churn.c",
          "common/detached.c", "common/driver.c", "common/module.c", "common/pool.c",
          "common/report.c", "common/shapes.c", "prim/posix.c", "prim/linux.c"]
LOADER = Path("/usr/lib/x86_64-linux-musl/libc.so")


@pytest.fixture(scope="module")
def musl(tmp_path_factory):
    """(version, {(scenario, mode): program}) for control_leak and control_flat."""
    if shutil.which("musl-gcc") is None or not LOADER.exists():
        pytest.skip("musl-gcc not installed (ci/setup.sh run installs musl-tools)")
    said = subprocess.run([str(LOADER)], capture_output=True, text=True).stderr
    version = re.search(r"^Version (\S+)", said, re.M).group(1)
    out = tmp_path_factory.mktemp("musl")
    sources = [REPRO / s for s in COMMON] + sorted((REPRO / "common" / "alloc").glob("*.c"))
    programs = {}
    for scenario in ("control_leak", "control_flat"):
        for mode, flags in (("static", ["-static"]), ("dynamic", [])):
            exe = out / f"{scenario}-{mode}"
            subprocess.run(["musl-gcc", *flags, "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror",
                            "-DTLSLEAK_TLS=none", f'-DTLSLEAK_SCENARIO="{scenario}"',
                            f'-DTLSLEAK_MUSL_VERSION="{version}"',
                            f"-I{REPRO / 'common'}", f"-I{REPRO / 'prim'}",
                            f"-I{ROOT / 'include'}", *map(str, sources),
                            str(REPRO / "common" / "tlskey.c"),
                            str(REPRO / "scenarios" / f"{scenario}.c"), "-o", str(exe),
                            "-lpthread", "-ldl"], check=True, capture_output=True, text=True)
            programs[scenario, mode] = exe
    return version, programs


@pytest.mark.parametrize("mode", ["static", "dynamic"])
def test_a_musl_program_names_its_malloc_and_its_libc(musl, mode):
    version, programs = musl
    out = subprocess.run([str(programs["control_flat", mode]), "--threads", "10"],
                         capture_output=True, text=True, timeout=60).stdout
    alloc = dict(f.split("=", 1) for f in re.search(r"^TLSLEAK/1 alloc (.*)$", out, re.M)
                 .group(1).split())
    assert alloc["name"] == "system" and alloc["owns"] == "1", out
    assert alloc["libc"] == f"musl-{version}" and alloc["version"] == version
    # static: malloc is in the program itself; dynamic: in musl's libc.so (its loader)
    expect = programs["control_flat", mode] if mode == "static" else LOADER
    assert Path(alloc["malloc_from"]).resolve() == Path(expect).resolve()


def test_the_harness_judges_static_musl_programs_like_any_other(musl, tmp_path):
    _, programs = musl
    verdicts = {}
    for scenario in ("control_leak", "control_flat"):
        r = run_cli("run", "-a", "system", "--exec", "--", programs[scenario, "static"],
                    "--threads", "8000", out=tmp_path / scenario)
        c = r.doc["cells"][0]
        verdicts[scenario] = (c["verdict"], c["rate"]["value"] if c["rate"] else None)
        assert c["observed_allocator"]["libc"].startswith("musl-"), c["observed_allocator"]
    assert verdicts["control_flat"][0] == "ok", verdicts
    assert verdicts["control_leak"][0] == "leak", verdicts
    assert 1024 <= verdicts["control_leak"][1] <= 1024 + 256, verdicts


def test_a_dynamic_musl_program_under_exec_is_an_error_not_a_measurement(musl, tmp_path):
    """--exec preloads tlsleak's thread-counting probe, built against glibc: musl's loader
    refuses it, and the cell says so (a musl build of the probe is not made yet)."""
    _, programs = musl
    r = run_cli("run", "-a", "system", "--exec", "--", programs["control_flat", "dynamic"],
                "--threads", "2000", out=tmp_path)
    c = r.doc["cells"][0]
    assert c["verdict"] == "error", c["reason"]
    assert "libtlsleak_probe.so" in c["stderr_tail"], c["stderr_tail"]
