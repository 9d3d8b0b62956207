"""--platform: the per-platform pieces that need no Wine to check (how Wine's exit is read,
the route check, the target facts of a Wine manifest)."""
import pytest

from tlsleak import InfraError, UsageError, platforms, policy, target
from tlsleak.platforms import wine
from tlsleak.settings import Criteria

pytestmark = pytest.mark.unit

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
