"""Helpers for the integration tests: run the real CLI, find a cell in its results."""
import functools
import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class Run:
    def __init__(self, proc, out):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.out = out

    @property
    def doc(self):
        return json.loads((self.out / "results.json").read_text())


def run_cli(*args, out=None, timeout=900):
    """Run ./tlsleak as a user would (set-up already done by the test command)."""
    env = dict(os.environ, TLSLEAK_SKIP_SETUP="1")
    argv = [str(ROOT / "tlsleak"), *map(str, args)]
    if out is not None:
        argv[2:2] = ["--out", str(out)]
    elif "--out" in argv:
        out = Path(argv[argv.index("--out") + 1])
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    return Run(proc, out)


def cell(doc, scenario, config):
    found = [c for c in doc["cells"] if c["scenario"] == scenario and c["config"] == config]
    if not found:
        why = [u["reason"] for u in doc.get("unavailable", []) if u["config"] == config]
        pytest.skip(f"{config} unavailable here: {why[0] if why else 'not in the matrix'}")
    return found[0]


@functools.lru_cache(maxsize=None)
def listed():
    """`tlsleak list --json --configure` of this tree, once per session: what the build can run.
    Tests take allocators and configurations from here instead of naming them by hand."""
    r = run_cli("list", "--json", "--configure")
    if r.rc != 0:
        raise RuntimeError(f"tlsleak list --json failed with {r.rc}: {r.stderr.strip()}")
    return json.loads(r.stdout)


def configurations(*names):
    """The configurations listed (available or not), of the allocators `names` or of all."""
    return [c for c in listed()["configs"] if not names or c["name"] in names]
