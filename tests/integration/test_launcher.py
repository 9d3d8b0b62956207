"""The ./tlsleak launcher as a shell user runs it."""
import json
import os
import subprocess

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
