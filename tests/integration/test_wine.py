"""The Windows programs, cross-built with mingw-w64 and run under Wine, straight (no harness
run): each Windows scenario prints well-formed checkpoints under every Windows configuration,
the api route really hands the program's mallocs to mimalloc, and the controls move as they
must (control_leak grows by about --size per thread, control_flat does not)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from scipy.stats import theilslopes

from tlsleak import checkpoints
import winetools
from winetools import WINE64, WINESERVER

pytestmark = winetools.PYTESTMARK
wine_tools = winetools.wine_tools  # autouse: fails where set-up should have installed the tools

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build-wine"
PREFIX = winetools.PREFIX
FLOOR = 128  # B/thread, the harness's default --floor
THREADS = 400
# The Wine build tree as `tlsleak run --platform wine` makes it: configured with the platform's
# toolchain, Debian's mimalloc tree built for Windows through its recipe, every configuration's
# programs built.
BUILD_ALL = ("from tlsleak import session\n"
             "build, _, confs = session.load(platform='wine')\n"
             "build.build([c.target for c in confs if c.available], jobs=2)\n")


@pytest.fixture(scope="module")
def manifest():
    built = subprocess.run([sys.executable, "-c", BUILD_ALL], capture_output=True, text=True,
                           env=dict(os.environ, PYTHONPATH=str(ROOT / "harness"),
                                    TLSLEAK_SKIP_SETUP="1"))
    assert built.returncode == 0, built.stderr[-2000:]
    env = dict(os.environ, WINEPREFIX=str(PREFIX), WINEDEBUG="-all")
    subprocess.run([str(ROOT / "ci" / "wine-prefix.sh")], check=True, env=env)
    # The first program in a cold prefix starts Wine's services (services.exe, winedevice.exe,
    # ...), which inherit its stdout and stderr and outlive it: a reader waiting for EOF would
    # wait for them. So keep one wineserver for the module and start the services here, with
    # no pipe of ours; each program then also starts in ~0.1 s instead of ~1 s.
    quiet = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([str(WINESERVER), "-p"], check=True, env=env, **quiet)
    subprocess.run([str(WINE64), "wineboot"], check=True, env=env, timeout=120, **quiet)
    yield json.loads((BUILD / "manifest.json").read_text())
    subprocess.run([str(WINESERVER), "-k"], env=env, **quiet)


def run(manifest, config, scenario, *args):
    target = manifest["target"]
    env = dict(os.environ, WINEPREFIX=str(PREFIX), **target["launcher_env"])
    exe = Path(config["bin_dir"]) / (scenario + target["suffix"])
    r = subprocess.run(target["launcher"] + [str(exe), "--threads", str(THREADS), *args],
                       capture_output=True, text=True, env=env, timeout=300)
    return r, checkpoints.CheckpointLog.from_lines(r.stdout.splitlines())


def configs(manifest):
    return [c for c in manifest["configs"] if c["available"]]


def windows_scenarios(manifest):
    return [s["name"] for s in manifest["scenarios"] if s["source"].startswith("repro/scenarios/windows/")]


def slope(log, name):
    """Theil-Sen slope in B/thread after a 20 % warm-up, as the harness judges."""
    cps = log.checkpoints[len(log.checkpoints) // 5:]
    x, y = checkpoints.series(cps, name)
    assert len(x) >= 5, f"too few checkpoints with {name}"
    return theilslopes(y, x)[0]


def test_target_facts(manifest):
    t = manifest["target"]
    assert (t["os"], t["suffix"], t["preload_var"]) == ("windows", ".exe", "")
    assert t["launcher"] == [str(WINE64)]
    assert "tss_dtor_free" not in [s["name"] for s in manifest["scenarios"]]  # no C11 threads.h


def test_every_windows_scenario_emits_checkpoints(manifest):
    names = windows_scenarios(manifest)
    assert {"fls_callback_free", "tls_callback_free", "emutls_fls"} <= set(names)
    for config in configs(manifest):
        for name in names + ["seed_thread_local"]:
            r, log = run(manifest, config, name)
            where = f"{name} under {config['id']}: rc {r.returncode}, stderr {r.stderr[-300:]}"
            assert r.returncode == 0, where
            assert log.malformed == 0 and log.version_mismatch is None, where
            assert log.start["scenario"] == name and log.start["os"] == "windows", where
            assert log.alloc["owns"] == 1, where
            assert [cp["done"] for cp in log.checkpoints][0] == 0, where
            assert log.checkpoints[-1]["done"] == THREADS, where
            assert all("rss" in cp and "commit" in cp for cp in log.checkpoints), where
            assert log.end == {"done": THREADS, "status": "ok"}, where


def test_api_route_really_calls_mimalloc(manifest):
    routed = [c for c in configs(manifest) if c["route"] == "api"]
    if not routed:
        pytest.skip("no mimalloc source tree in .cache/src: no api configuration")
    for config in routed:
        _, log = run(manifest, config, "control_flat")
        # owns=1: mi_is_in_heap_region claims a block fresh from the program's malloc.
        assert (log.alloc["name"], log.alloc["mode"], log.alloc["owns"]) == ("mimalloc", "api", 1)


def dll_mimalloc(config):
    return config["name"] == "mimalloc" and config["mode"] == "dynamic"


@pytest.mark.parametrize("api", ["beginthreadex", "createthread"])
def test_controls_under_each_configuration(manifest, api):
    # Not the mimalloc DLL: its own thread heap leaks in every program (the next test).
    for config in [c for c in configs(manifest) if not dll_mimalloc(c)]:
        _, leak = run(manifest, config, "control_leak", "--thread-api", api)
        _, flat = run(manifest, config, "control_flat", "--thread-api", api)
        assert leak.start["thread_api"] == api
        # The block is 1024 B: both OS signals must see it, well above the floor.
        assert slope(leak, "rss") > FLOOR and slope(leak, "commit") > FLOOR, config["id"]
        assert slope(flat, "rss") < FLOOR and slope(flat, "commit") < FLOOR, config["id"]


def test_mimalloc_dll_leaks_its_thread_heap_under_mingw(manifest):
    """A MinGW-built mimalloc DLL (2.0.9, under Wine 8) keeps tens of KiB per exited thread even
    in control_flat. It frees a thread's heap from DllMain at DLL_THREAD_DETACH and finds that
    heap through an emulated-TLS variable; the likely cause is emutls tearing it down first
    (zackees/mimalloc-pprof #47, the shape of msys2/MINGW-packages #7096)."""
    dlls = [c for c in configs(manifest) if dll_mimalloc(c)]
    if not dlls:
        pytest.skip("no mimalloc DLL configuration")
    for config in dlls:
        _, flat = run(manifest, config, "control_flat")
        assert slope(flat, "commit") > 16 * 1024, config["id"]


def test_seed_thread_local_grows_with_static_mimalloc_2_0(manifest):
    """The motivating report, microsoft/mimalloc #944 (fixed in v2.1.8): a thread_local object
    whose destructor frees after mimalloc's own thread-exit callback has run. Seen under Wine
    with a MinGW static mimalloc 2.0.9: some 285 KB per std::thread (results/wine/)."""
    old = [c for c in configs(manifest)
           if c["name"] == "mimalloc" and c["mode"] == "static" and c["version"].startswith("2.0.")]
    if not old:
        pytest.skip("no mimalloc 2.0.x source tree in .cache/src")
    for config in old:
        _, seed = run(manifest, config, "seed_thread_local")
        assert slope(seed, "commit") > FLOOR, config["id"]


def test_a_crash_ends_quickly_and_quietly(manifest):
    """With the prefix ci/wine-prefix.sh makes, a fault in a thread-exit destructor ends the
    process within seconds, with no winedbg backtrace flooding stderr, and without an end line."""
    config = configs(manifest)[0]
    r, log = run(manifest, config, "fault_crash_dtor")  # a debugger waiting: run()'s timeout
    assert r.returncode != 0 and log.end is None and log.checkpoints
    assert "Register dump" not in r.stderr and len(r.stderr) < 2048, r.stderr[-500:]


def test_unknown_thread_api_is_a_usage_error(manifest):
    r, log = run(manifest, configs(manifest)[0], "control_flat", "--thread-api", "pthread")
    assert r.returncode == 2 and log.start is None
    assert "not offered" in r.stderr
