"""`tlsleak run --platform musl` end to end: the harness builds the repro's C programs with
Debian's musl-gcc (cmake/musl.cmake) into build-musl/, runs them natively, and judges them under
`system`, which there is musl's own malloc (mallocng), checked in each process to come from
musl's libc.so. Both controls behave (positive leaks, negative ok), early_key runs (musl never
runs .preinit_array: its key is made by a constructor there), the C++ scenario is listed
unavailable with its reason, and every cell says it ran on musl, built by musl-gcc."""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from clihelp import run_cli

pytestmark = pytest.mark.integration
LOADER = Path(f"/lib/ld-musl-{os.uname().machine}.so.1")
# A cell ends when its verdict is settled, never on the time budget: the verdicts then do not
# depend on how loaded the machine is.
SETTLED = ("--budget", "600", "--timeout", "900")


@pytest.fixture(scope="module")
def musl_version():
    if shutil.which("musl-gcc") is None or not LOADER.exists():
        pytest.fail("musl-gcc or musl's loader missing: ci/setup.sh run installs musl-tools")
    said = subprocess.run([str(LOADER)], capture_output=True, text=True).stderr
    return re.search(r"^Version (\S+)", said, re.M).group(1)


@pytest.fixture(scope="module")
def musl_run(tmp_path_factory, musl_version):
    return run_cli("run", "--platform", "musl", "-s", "early_key", "-s", "seed_thread_local",
                   "-a", "system", *SETTLED, out=tmp_path_factory.mktemp("musl") / "run")


def test_controls_and_a_scenario_are_judged_right_under_musls_malloc(musl_run):
    r = musl_run
    assert r.rc == 0, r.stdout[-1500:] + r.stderr[-1500:]
    doc = r.doc
    verdicts = {c["scenario"]: c["verdict"] for c in doc["cells"]}
    assert verdicts == {"control_leak": "leak", "control_flat": "ok", "thread_pool": "ok",
                        "early_key": "ok"}, verdicts
    assert doc["controls"]["passed"] and not doc["controls"]["invalid_configs"]
    leak = next(c for c in doc["cells"] if c["scenario"] == "control_leak")
    # a 1024 B block per thread, and mallocng's own header and slot rounding
    assert 1024 <= leak["rate"]["value"] <= 1024 + 256, leak["rate"]


def test_every_cell_is_served_by_musls_malloc_and_says_where_it_came_from(musl_run,
                                                                          musl_version):
    doc = musl_run.doc
    assert doc["target"]["label"] == f"linux-{os.uname().machine}-musl"
    libc = Path(os.path.realpath(LOADER))
    for c in doc["cells"]:
        seen = c["observed_allocator"]
        assert seen["name"] == "system" and seen["owns"], seen
        assert Path(seen["malloc_from"]).resolve() == libc, seen
        assert seen["libc"] == f"musl-{musl_version}", seen
        assert c["allocator"]["library"] == str(libc), c["allocator"]
        assert c["provenance"]["libc"] == f"musl {musl_version}", c["provenance"]
        assert c["provenance"]["compiler"]["c_path"].endswith("/musl-gcc"), c["provenance"]
        assert c["target"] == doc["target"]["label"]


def test_the_cpp_scenario_is_listed_unavailable_with_its_reason(musl_run):
    missing = {u.get("scenario"): u["reason"] for u in musl_run.doc["unavailable"]}
    assert "no musl C++ library" in missing["seed_thread_local"], missing
    assert "seed_thread_local" in musl_run.stdout  # the table says so too
    listed = run_cli("list", "--platform", "musl", "--json")
    assert listed.rc == 0, listed.stderr
    doc = json.loads(listed.stdout)
    assert "seed_thread_local" not in {s["name"] for s in doc["scenarios"]}
    assert [u["name"] for u in doc["unavailable_scenarios"]] == ["seed_thread_local"]
    system = next(c for c in doc["configs"] if c["id"] == "system")
    assert system["available"] and system["origin"] == "C library (musl)", system


def test_a_dynamic_musl_program_is_judged_under_exec_with_the_musl_built_probe(musl_run,
                                                                              tmp_path):
    """The musl tree builds its own probe, which musl's loader preloads (the native tree's
    glibc-built one it refuses: test_prim_linux)."""
    program = next(c for c in musl_run.doc["cells"] if c["scenario"] == "control_leak")
    r = run_cli("run", "--platform", "musl", *SETTLED, "--exec", "--", program["command"][0],
                "--threads", "8000", out=tmp_path)
    c = r.doc["cells"][0]
    assert c["verdict"] == "leak", (c["reason"], c["stderr_tail"])
    assert 1024 <= c["rate"]["value"] <= 1024 + 256, c["rate"]
    assert c["observed_allocator"]["libc"].startswith("musl-"), c["observed_allocator"]


def test_a_glibc_program_under_musl_exec_is_an_error_not_a_measurement(musl_run, tmp_path):
    """A wrapper started the way projects start them (sh -c) is glibc's here: it refuses the
    musl-built probe, and the cell says so instead of measuring nothing."""
    program = next(c for c in musl_run.doc["cells"] if c["scenario"] == "control_leak")
    r = run_cli("run", "--platform", "musl", "--exec", "--", "sh", "-c",
                f"{program['command'][0]} --threads 2000", out=tmp_path)
    c = r.doc["cells"][0]
    assert c["verdict"] == "error", c["reason"]
    assert "libtlsleak_probe.so" in c["stderr_tail"] or "libc.so" in c["stderr_tail"], c
