"""--platform: the per-platform pieces that need no Wine or musl to check (how Wine's exit is
read, the route check, the target facts of a Wine or musl manifest, each platform's interface)."""
import os
import re
from pathlib import Path

import pytest

from tlsleak import InfraError, UsageError, platforms, policy, target
from tlsleak.platforms import musl, wine
from tlsleak.settings import Criteria

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]

CPS = tuple({"done": i * 50, "t_ns": i, "rss": 8 << 20, "t_recv": i * 0.01} for i in range(41))
WINE_MANIFEST = {"build": {"system": "Windows"}, "scenarios": [{"name": "control_flat"}],
                 "target": {"os": "windows", "suffix": ".exe", "launcher": ["/usr/lib/wine/wine64"],
                            "launcher_env": {"WINEDEBUG": "-all"}, "preload_var": ""}}


def test_unknown_platform_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown platform 'dos'"):
        platforms.get("dos")


def test_a_failing_exit_without_end_line_is_a_crash_under_wine_with_its_exception():
    """Wine's status for an unhandled 0xC0000005 is its low byte, 5 (ci/wine-prefix.sh)."""
    kind, text = wine.describe_exit(5, None)
    assert kind == "crash" and "0xC0000005 access violation" in text
    assert wine.describe_exit(2, {"done": 0, "status": "usage"}) is None  # the program's own exit
    assert wine.describe_exit(0, None) is None
    v = policy.decide(policy.Outcome(returncode=5, checkpoints=CPS[:3],
                                     exit_reading=wine.describe_exit(5, None)),
                      Criteria(sequential=False), "", "scenario")
    assert v.verdict == "crash" and "unhandled exception under Wine" in v.reason


def test_natively_the_hosts_reading_stands():
    assert platforms.get("native").describe_exit(5, None) is None


@pytest.mark.parametrize("mode, route, ok", [
    ("api", "api", True), ("", "malloc", True), ("", "api", False), ("api", "malloc", False)])
def test_a_configuration_not_reached_the_way_it_claims_is_an_error(mode, route, ok):
    alloc = {"name": "mimalloc", "owns": 1, "mode": mode, "malloc_from": "x.exe"}
    v = policy.decide(policy.Outcome(returncode=0, checkpoints=CPS, alloc=alloc,
                                     end={"done": 2000, "status": "ok"}),
                      Criteria(sequential=False), "mimalloc", "scenario", route=route)
    assert (v.verdict != "error") == ok, v.reason
    if not ok:
        assert f"configured route {route}" in v.reason


def test_the_wine_target_runs_the_exe_under_wine64_in_the_harness_prefix():
    tgt = wine.target(target.Target.from_manifest(WINE_MANIFEST))
    assert tgt.argv("/b", "control_flat", ["--threads", "9"]) == [
        "/usr/lib/wine/wine64", "/b/control_flat.exe", "--threads", "9"]
    assert dict(tgt.launcher_env) == {"WINEDEBUG": "-all", "WINEPREFIX": str(wine.PREFIX)}
    assert tgt.platform == "wine" and tgt.preload_var == ""


def test_a_native_build_tree_is_refused_for_wine():
    native = target.Target.from_manifest({"build": {"system": "Linux"}, "scenarios": [],
                                          "target": {"os": "linux", "launcher": []}})
    with pytest.raises(InfraError, match="not a Windows cross-build"):
        wine.target(native)


MUSL_MANIFEST = {"build": {"system": "Linux", "libc": "musl 1.2.3"},
                 "scenarios": [{"name": "control_flat"}],
                 "unavailable_scenarios": [{"name": "seed_thread_local", "reason": "no C++"}],
                 "target": {"os": "linux", "arch": "x86_64", "launcher": [],
                            "preload_var": "LD_PRELOAD"}}
# The interface every platform module offers (platforms/__init__.py's docstring).
INTERFACE = ("NAME", "BUILD_DIR", "cmake_args", "TOOLCHAIN", "SETUP_PROFILE", "MAX_JOBS",
             "check", "target", "running", "describe_exit")


@pytest.mark.parametrize("name", platforms.NAMES)
def test_every_platform_offers_the_whole_interface_under_its_name(name):
    plat = platforms.get(name)
    assert plat.NAME == name
    assert [a for a in INTERFACE if not hasattr(plat, a)] == []


def test_musl_builds_its_own_tree_with_the_musl_toolchain_file():
    args = musl.cmake_args()
    assert musl.BUILD_DIR == "build-musl" and len(args) == 1
    toolchain = args[0].split("=", 1)[1]
    assert toolchain.endswith("cmake/musl.cmake") and os.path.exists(toolchain)
    assert "set(CMAKE_C_COMPILER musl-gcc)" in open(toolchain).read()
    assert musl.TOOLCHAIN.cc == "musl-gcc" and tuple(args) == musl.TOOLCHAIN.cmake_args


def test_musls_set_up_profile_is_one_that_installs_musl_tools():
    """ci/setup.sh installs apt_run in every profile; musl-tools must be in the one named."""
    text = (ROOT / "ci" / "setup.sh").read_text()
    run = re.search(r"^apt_run=\((.*?)\)$", text, re.S | re.M).group(1)
    assert musl.SETUP_PROFILE == "run" and "musl-tools" in run.split()


def test_the_musl_target_runs_programs_directly_and_is_labelled_musl():
    tgt = musl.target(target.Target.from_manifest(MUSL_MANIFEST))
    assert tgt.argv("/b", "control_flat", ["--threads", "9"]) == [
        "/b/control_flat", "--threads", "9"]
    assert tgt.platform == "musl" and tgt.label == "linux-x86_64-musl"
    assert musl.describe_exit(139, None) is None  # the host's reading: it runs natively
    with musl.running(tgt):
        pass


def test_a_windows_build_tree_is_refused_for_musl():
    with pytest.raises(InfraError, match="not a native Linux build"):
        musl.target(target.Target.from_manifest(WINE_MANIFEST))


def test_a_scenario_the_toolchain_cannot_build_says_why():
    tgt = target.Target.from_manifest(MUSL_MANIFEST)
    assert not tgt.buildable("seed_thread_local") and tgt.why_not("seed_thread_local") == "no C++"
    assert tgt.why_not("control_flat") is None  # built
    assert tgt.why_not("fls_callback_free") is None  # another target's: not this one's to list
