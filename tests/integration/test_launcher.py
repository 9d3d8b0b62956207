"""The ./tlsleak launcher as a shell user runs it."""
import json
import os
import shutil
import subprocess
import time

import pytest

from clihelp import ROOT


@pytest.mark.integration
def test_closed_stderr_still_runs_and_writes_results(tmp_path):
    """`./tlsleak run ... 2>&-`: with no stderr the run still judges its cells, writes
    results.json and exits with the verdict's code (0 here), not 1 (which would read as a leak)."""
    out = tmp_path / "out"
    r = subprocess.run(
        ["bash", "-c", f'"$0" run -s control_flat -a system --out "{out}" >/dev/null 2>&-',
         str(ROOT / "tlsleak")],
        env=dict(os.environ, TLSLEAK_SKIP_SETUP="1"), stdin=subprocess.DEVNULL, timeout=600)
    assert r.returncode == 0
    doc = json.loads((out / "results.json").read_text())
    assert {c["scenario"] for c in doc["cells"]} >= {"control_flat", "control_leak"}


def fresh_clone(tmp_path):
    """The checkout as a fresh clone has it (its files, none of build/ or .cache/): the files
    git knows, at their working-tree state, and the new ones not ignored."""
    files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard"], capture_output=True, check=True).stdout
    clone = tmp_path / "clone"
    for name in filter(None, files.decode().split("\0")):
        src = ROOT / name
        if src.is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, clone / name)
    return clone


@pytest.mark.integration
def test_help_list_and_usage_errors_need_no_set_up_on_a_fresh_clone(tmp_path):
    """Set-up (packages, Debian's source packages) and CMake's configure happen when a command
    first needs them, not before answering --help, list or a usage error; what each took is
    printed (a figure, not a bound)."""
    clone = fresh_clone(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("TLSLEAK_SKIP_SETUP", "PYTHONPATH")}
    said = {}
    for args, code, says in [(["--help"], 0, "usage: tlsleak"),
                             (["list"], 0, "not configured yet"),
                             (["run", "--threads", "many"], 2, "'many' is not an integer"),
                             (["run", "-s", "no_such_scenario"], 2, "unknown scenario")]:
        t0 = time.monotonic()
        r = subprocess.run([str(clone / "tlsleak"), *args], env=env, capture_output=True,
                           text=True, timeout=600, stdin=subprocess.DEVNULL)
        said[" ".join(args)] = f"{time.monotonic() - t0:.2f} s"
        assert r.returncode == code and says in r.stdout + r.stderr, r.stderr
        assert "tlsleak setup:" not in r.stderr, r.stderr
    print(f"\nfresh clone: {said}")
    # Nothing was set up or configured: only the interpreter was chosen.
    assert sorted(p.name for p in (clone / ".cache").iterdir()) == ["python"]
    assert not (clone / "build").exists()
