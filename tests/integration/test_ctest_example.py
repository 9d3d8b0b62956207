"""CMake/CTest integration (cmake/tlsleakConfig.cmake): find_package(tlsleak) gives
tlsleak_add_test, whose test runs `tlsleak run --exec` on the program and fails on a leak;
examples/ctest is the project a user would write."""
import json
import os
import subprocess
import xml.etree.ElementTree as ET

import pytest

from clihelp import ROOT

pytestmark = pytest.mark.integration

EXAMPLE = ROOT / "examples" / "ctest"


def configure(src, build, *defs):
    return subprocess.run(["cmake", "-S", str(src), "-B", str(build),
                           f"-Dtlsleak_DIR={ROOT / 'cmake'}", *defs],
                          capture_output=True, text=True, timeout=300)


def test_each_registered_test_runs_tlsleak_exec_with_its_allocators_and_threads(tmp_path):
    build = tmp_path / "build"
    r = configure(EXAMPLE, build, "-DTLSLEAK_EXAMPLE_ALLOCATORS=system;mimalloc:override")
    assert r.returncode == 0, r.stderr
    shown = subprocess.run(["ctest", "--test-dir", str(build), "--show-only=json-v1"],
                           capture_output=True, text=True, check=True).stdout
    tests = {t["name"]: t for t in json.loads(shown)["tests"]}
    assert sorted(tests) == ["leaky", "leaky_unmodified", "tidy", "tidy_unmodified"]
    for name, test in tests.items():
        # The unmodified twins run longer: sampled from outside, they need the time.
        threads, runs = ("20000", "100000") if name.endswith("_unmodified") else ("4000", "4000")
        assert test["command"] == [
            str(ROOT / "tlsleak"), "run", "-a", "system", "-a", "mimalloc:override",
            "--threads", threads, "--overwrite", "--out", str(build / "tlsleak" / name),
            "--exec", "--", str(build / name), runs]
        labels = [p["value"] for p in test["properties"] if p["name"] == "LABELS"][0]
        assert "tlsleak" in labels
        # tlsleak's exit 4 (a cell that could not be judged) is a skip, not a pass
        skip = [p["value"] for p in test["properties"] if p["name"] == "SKIP_RETURN_CODE"]
        assert skip == [4]


def test_ctest_fails_on_the_leaking_programs_and_passes_on_their_twins(tmp_path):
    # With checkpoints (tlsleak.h) and unmodified (the probe counts the threads).
    build = tmp_path / "build"
    r = configure(EXAMPLE, build)
    assert r.returncode == 0, r.stderr
    subprocess.run(["cmake", "--build", str(build), "-j2"], check=True, capture_output=True)
    junit = tmp_path / "ctest.xml"
    r = subprocess.run(["ctest", "--test-dir", str(build), "--output-junit", str(junit)],
                       capture_output=True, text=True, timeout=900,
                       env=dict(os.environ, TLSLEAK_SKIP_SETUP="1"))
    assert r.returncode != 0, r.stdout  # a leak fails the CTest run
    status = {tc.get("name"): tc.get("status") for tc in ET.parse(junit).iter("testcase")}
    assert status == {"leaky": "fail", "tidy": "run", "leaky_unmodified": "fail",
                      "tidy_unmodified": "run"}, r.stdout
    for suffix in ("", "_unmodified"):
        leaky, tidy = (json.loads((build / "tlsleak" / (name + suffix) / "results.json")
                                  .read_text())["cells"][0] for name in ("leaky", "tidy"))
        assert leaky["verdict"] == "leak", leaky["reason"]
        assert leaky["rate"]["unit"] == "B/thread"
        assert 1900 <= leaky["rate"]["value"] <= 2400  # 2 KiB per thread
        assert tidy["verdict"] == "ok", tidy["reason"]
    assert leaky["probe"]["claimed"] and leaky["checkpoints"][-1]["done"] > 0
    # THREADS 20000: the unmodified programs (100000 threads each) are stopped there, judged
    for name in ("leaky_unmodified", "tidy_unmodified"):
        cell = json.loads((build / "tlsleak" / name / "results.json").read_text())["cells"][0]
        finished = cell["probe"]["counts"]["finished"]
        assert 20000 <= finished <= 22000, (name, finished, cell["reason"])
        assert cell["exit"]["stop"] == "threads", cell["reason"]


SHORT = """cmake_minimum_required(VERSION 3.16)
project(p C)
enable_testing()
find_package(tlsleak REQUIRED)
find_package(Threads REQUIRED)
add_executable(churn {churn})
target_compile_definitions(churn PRIVATE LEAK_BYTES=0)
target_link_libraries(churn PRIVATE Threads::Threads)
tlsleak_add_test(NAME too_short COMMAND churn 5 ALLOCATORS system)
tlsleak_add_test(NAME too_short_strict COMMAND churn 5 ALLOCATORS system FAIL_ON_INCONCLUSIVE)
"""


def test_a_test_that_cannot_be_judged_is_skipped_or_failed_when_asked(tmp_path):
    # Five threads: counted by the probe, but over before they can be measured: exit 4.
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "CMakeLists.txt").write_text(
        SHORT.format(churn=EXAMPLE / "churn.c"))
    build = tmp_path / "build"
    r = configure(tmp_path / "src", build)
    assert r.returncode == 0, r.stderr
    subprocess.run(["cmake", "--build", str(build)], check=True, capture_output=True)
    junit = tmp_path / "ctest.xml"
    r = subprocess.run(["ctest", "--test-dir", str(build), "--output-junit", str(junit)],
                       capture_output=True, text=True, timeout=900,
                       env=dict(os.environ, TLSLEAK_SKIP_SETUP="1"))
    status = {tc.get("name"): tc.get("status") for tc in ET.parse(junit).iter("testcase")}
    assert status == {"too_short": "notrun", "too_short_strict": "fail"}, r.stdout
    cell = json.loads((build / "tlsleak" / "too_short" / "results.json").read_text())
    assert cell["exit_code"] == 4 and cell["cells"][0]["verdict"] == "inconclusive"


@pytest.mark.parametrize("call, says", [
    ("tlsleak_add_test(NAME t)", "NAME and COMMAND are required"),
    ("tlsleak_add_test(NAME t COMMAND p THREADS many)", "THREADS must be a number"),
    ("tlsleak_add_test(FAST NAME t COMMAND p)", "unknown arguments: FAST"),
])
def test_a_wrong_call_stops_the_configure_with_a_message(tmp_path, call, says):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.16)\nproject(p NONE)\nenable_testing()\n"
        f"find_package(tlsleak REQUIRED)\n{call}\n")
    r = configure(tmp_path / "src", tmp_path / "build")
    assert r.returncode != 0 and says in r.stderr, r.stderr
