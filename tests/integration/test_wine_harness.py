"""`tlsleak run --platform wine` end to end: the harness cross-builds the programs into
build-wine/, runs them under Wine in its own prefix with one wineserver it starts and stops,
and judges them. Kept short: a thousand threads per cell at most."""
import json
import os
import re
import shutil
import subprocess

import psutil
import pytest

from clihelp import ROOT, run_cli
from procs import started, wait_until

import winetools

pytestmark = winetools.PYTESTMARK
wine_tools = winetools.wine_tools  # autouse: fails where set-up should have installed the tools

PREFIX = winetools.PREFIX
# A cell ends when its verdict is settled (sequential judging), never on the time budget: the
# verdicts then do not depend on how loaded the machine is (a loaded one churns a dozen Wine
# threads per second, not hundreds, and Wine's default budget of 8 s then ends cells unjudged).
SHORT = ("--threads", "1000", "--budget", "600", "--timeout", "900")


def wineservers_of_prefix():
    """Wine servers serving the harness's prefix: Wine keeps one per prefix, working in
    /tmp/.wine-UID/server-DEV-INODE of the prefix directory."""
    st = os.stat(PREFIX)
    home = f"/tmp/.wine-{os.getuid()}/server-{st.st_dev:x}-{st.st_ino:x}"
    found = []
    for p in psutil.process_iter(["name"]):
        try:
            if p.info["name"] == "wineserver" and p.cwd() == home:
                found.append(p.pid)
        except psutil.Error:
            pass
    return found


def by_id(doc):
    return {c["id"]: c for c in doc["cells"]}


@pytest.fixture(scope="module")
def wine_controls(tmp_path_factory):
    return run_cli("run", "--platform", "wine", "-s", "control_leak", "-s", "control_flat",
                   "-a", "system", "-a", "mimalloc:static", *SHORT,
                   out=tmp_path_factory.mktemp("wine") / "controls")


def test_controls_are_judged_right_for_system_and_static_mimalloc(wine_controls):
    r = wine_controls
    assert r.rc == 0, r.stdout[-1500:] + r.stderr[-1500:]
    doc = r.doc
    assert doc["controls"]["passed"] and not doc["controls"]["invalid_configs"]
    cells = by_id(doc)
    static = [i for i in cells if i.startswith("control_leak-mimalloc@") and i.endswith("static")]
    if not static:
        pytest.skip("no mimalloc source tree in .cache/src: no static configuration")
    assert cells["control_leak-system"]["verdict"] == "leak"
    assert cells["control_flat-system"]["verdict"] == "ok"
    assert cells[static[0]]["verdict"] == "leak"
    for c in doc["cells"]:
        # Run under Wine, in the harness's prefix, the way the manifest says.
        assert c["command"][0] == str(winetools.WINE64) and c["command"][1].endswith(".exe"), c["id"]
        assert c["env"]["WINEPREFIX"] == str(PREFIX)
        want = "api" if c["allocator"]["name"] == "mimalloc" else "malloc"
        assert c["allocator"]["route"] == want
        assert (c["observed_allocator"]["mode"] or "malloc") == want
    assert wineservers_of_prefix() == [], "the run left its wineserver running"


def test_native_shards_and_a_wine_run_merge_into_one_report(wine_controls, tmp_path):
    """As the CI workflow's merge job does: the shards of a native matrix and a run under
    Wine, downloaded into one folder, merged by ci/merge.sh into one results file whose cells
    keep their target, with one grid holding both."""
    assert wine_controls.rc == 0, wine_controls.stderr[-1500:]
    runs = tmp_path / "runs"
    shutil.copytree(wine_controls.out, runs / "wine" / "runs" / "ci-wine")
    for k in (1, 2):
        r = run_cli("run", "-s", "control_flat", "-s", "tss_dtor_free", "-a", "system",
                    "--threads", "2000", "--no-report", "--shard", f"{k}/2",
                    out=runs / f"tlsleak-shard-{k}")
        assert r.rc == 0, r.stdout[-1500:] + r.stderr[-1500:]
    out = tmp_path / "merged"
    m = subprocess.run([str(ROOT / "ci" / "merge.sh"), str(runs), str(out)], capture_output=True,
                       text=True, env=dict(os.environ, TLSLEAK_SKIP_SETUP="1"), timeout=300)
    assert m.returncode == 0, m.stdout[-1500:] + m.stderr[-1500:]
    doc = json.loads((out / "results.json").read_text())
    wine_ids = [f"windows-x86_64-wine/{c['id']}" for c in wine_controls.doc["cells"]]
    assert [c["id"] for c in doc["cells"] if c["target"].endswith("-wine")] == wine_ids
    native = [c for c in doc["cells"] if not c["target"].endswith("-wine")]
    assert {c["scenario"] for c in native} == {"control_leak", "control_flat", "thread_pool",
                                               "tss_dtor_free"}
    assert len({c["id"] for c in doc["cells"]}) == len(doc["cells"])
    # ci/merge.sh takes the files in path order: the native shards, then the Wine run.
    assert [p["plan"]["merged"] for p in doc["parts"]] == [[[1, 2], [2, 2]], []]
    html = (out / "report.html").read_text()
    for c in doc["cells"]:
        assert 'data-cell="%s"' % c["id"] in html
    assert "windows-x86_64-wine system" in html and doc["controls"]["passed"]


def test_the_mimalloc_dll_failing_its_flat_control_is_reported_for_that_configuration(tmp_path):
    """The MinGW mimalloc DLL keeps ~64 KiB per exited thread in every program: its negative
    control grows, so that configuration's controls fail, said as such, with the infrastructure
    exit code (no verdict of that configuration can be trusted), and the run still finishes."""
    r = run_cli("run", "--platform", "wine", "-s", "control_flat", "-a", "mimalloc:dynamic",
                "--no-controls", *SHORT, out=tmp_path)
    if "mimalloc:dynamic is unavailable" in r.stderr:
        pytest.skip("no mimalloc source tree in .cache/src")
    assert r.rc == 3, r.stdout[-1500:] + r.stderr[-1500:]
    bad = r.doc["controls"]["invalid_configs"]
    assert [b["config"] for b in bad] == [r.doc["cells"][0]["allocator"]["id"]]
    assert "control_flat leak" in bad[0]["why"]
    assert "controls failed for mimalloc@" in r.stdout


def test_a_crash_under_wine_is_a_crash_not_a_debugger_waiting(tmp_path):
    """A thread-exit destructor writing through a null pointer: Wine ends the process with the
    exception code's low byte as its status and no `end` line (a debugger holding it would make
    it a timeout)."""
    r = run_cli("run", "--platform", "wine", "-s", "fault_crash_dtor", "-a", "system",
                "--no-controls", "--threads", "400", out=tmp_path)
    assert r.rc == 1, r.stdout[-1500:] + r.stderr[-1500:]  # a crash is a finding
    (cell,) = r.doc["cells"]
    assert cell["verdict"] == "crash", cell["reason"]
    assert "unhandled exception under Wine" in cell["reason"]


def test_list_shows_the_windows_scenarios_and_why_debians_tree_has_no_redirect():
    """Debian's mimalloc tree, built for Windows through its recipe, gives static and dynamic;
    its `redirect` is listed unavailable, saying why (the package drops the module)."""
    r = run_cli("list", "--platform", "wine", "--configure")
    assert r.rc == 0, r.stderr[-1500:]
    assert "fls_callback_free" in r.stdout and "tls_callback_free" in r.stdout
    # MinGW has no C11 threads.h: listed unavailable, with the build's reason
    assert re.search(r"tss_dtor_free +unavailable: cannot build tls=c11: this toolchain has no "
                     r"threads\.h", r.stdout), r.stdout
    assert "no redirect module, bin/mimalloc-redirect.lib" in r.stdout


def test_an_interrupt_stops_the_cell_and_the_wineserver(tmp_path):
    """SIGINT mid-cell: the program is killed, the run exits 130, and the wineserver the
    harness started is gone."""
    import signal
    env = dict(os.environ, TLSLEAK_SKIP_SETUP="1")
    # A million threads, every one run, no timeout: the cell lasts until the test ends it.
    argv = [str(ROOT / "tlsleak"), "run", "--out", str(tmp_path), "--platform", "wine", "-s",
            "control_flat", "-a", "system", "--no-controls", "--no-sequential", "--threads",
            "1000000", "--timeout", "86400"]
    with started(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                 stderr=subprocess.PIPE, text=True) as proc:
        harness = psutil.Process(proc.pid)

        def cell_running():
            for child in harness.children(recursive=True):
                try:
                    if child.name().startswith("control_flat"):
                        return True
                except psutil.Error:
                    pass
            return False

        wait_until(cell_running, "the cell starting")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out[-1000:] + err[-1000:]
    assert wineservers_of_prefix() == [], "the interrupted run left its wineserver running"
