"""pytest plugin: a `tlsleak` fixture that runs your program under `tlsleak run --exec` and fails
the test on a leak, with the verdict and its numbers.

    def test_no_leak_at_thread_exit(tlsleak):
        tlsleak.check(["./build/my_server", "--churn", "5000"], allocators=["system"])

Load it with `pytest -p tlsleak.pytest_plugin` (harness/ on PYTHONPATH), with
`pytest_plugins = ["tlsleak.pytest_plugin"]` in a root conftest.py, or through the `pytest11`
entry point of an installed package (docs/DESIGN.md section 6). The launcher is this checkout's
`tlsleak`, or the installed `tlsleak` command; `--tlsleak-command PATH` or TLSLEAK_COMMAND picks
another.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tlsleak import paths
from tlsleak.vocab import EXIT_MEANING


def describe(doc: dict | None, returncode: int, stderr: str = "") -> str:
    """The failure message of one run: each cell that is not `ok` with its verdict and numbers
    (results.json's `id`, `verdict`, `reason`), else the launcher's own last words."""
    lines = [f"tlsleak: {EXIT_MEANING.get(returncode, 'failed')} (exit {returncode})"]
    cells = (doc or {}).get("cells", [])
    for cell in cells:
        if cell.get("verdict") != "ok":
            reason = cell.get("reason") or ""
            lines.append(f"  {cell.get('id')}: {cell.get('verdict')}"
                         + (f": {reason}" if reason else ""))
    if not cells or returncode in (2, 3):
        tail = [line for line in stderr.strip().splitlines() if line.strip()][-3:]
        lines += [f"  {line}" for line in tail]
    return "\n".join(lines)


class Tlsleak:
    """The fixture's object: check() runs the CLI once per call, in its own output folder."""

    def __init__(self, out_dir: Path, command: str):
        self.out_dir = Path(out_dir)
        self.command = command
        self.runs = 0

    def argv(self, program: list, allocators=None, threads=None, options=(), out=None) -> list:
        """The launcher's command line for `program` (everything after --exec is its own)."""
        cmd = [self.command, "run"]
        for config in allocators or ():
            cmd += ["-a", str(config)]
        if threads is not None:
            cmd += ["--threads", str(int(threads))]
        cmd += [*map(str, options), "--out", str(out or self.out_dir), "--exec", "--",
                *map(str, program)]
        return cmd

    def check(self, program, allocators=None, threads=None, options=(), timeout=None,
              env=None) -> dict:
        """Run `program` (a list: executable and arguments) under tlsleak and fail the test
        unless it exits 0 (no leak). Returns results.json as a dict."""
        if isinstance(program, (str, os.PathLike)):
            program = [program]
        self.runs += 1
        out = self.out_dir / f"run{self.runs}"
        proc = subprocess.run(self.argv(program, allocators, threads, options, out),
                              capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)
        try:
            doc = json.loads((out / "results.json").read_text())
        except (OSError, ValueError):
            doc = None
        if proc.returncode != 0:
            pytest.fail(describe(doc, proc.returncode, proc.stderr), pytrace=False)
        return doc


def pytest_addoption(parser):
    parser.addoption("--tlsleak-command", default=None, metavar="PATH",
                     help="the tlsleak launcher the `tlsleak` fixture runs "
                          "(default: $TLSLEAK_COMMAND, else this checkout's ./tlsleak, or the "
                          "installed tlsleak)")


@pytest.fixture
def tlsleak(request, tmp_path) -> Tlsleak:
    command = (request.config.getoption("--tlsleak-command")
               or os.environ.get("TLSLEAK_COMMAND") or paths.launcher())
    return Tlsleak(tmp_path / "tlsleak", command)
