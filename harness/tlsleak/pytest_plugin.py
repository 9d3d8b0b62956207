"""pytest plugin: a `tlsleak` fixture that runs your program under `tlsleak run --exec` and fails
the test on a leak, with the verdict and its numbers.

    def test_no_leak_at_thread_exit(tlsleak):
        tlsleak.check(["./build/my_server", "--churn", "5000"], allocators=["system"])

Load it with `pytest -p tlsleak.pytest_plugin` (harness/ on PYTHONPATH), with
`pytest_plugins = ["tlsleak.pytest_plugin"]` in a root conftest.py, or through the `pytest11`
entry point of an installed package (docs/DESIGN.md "Where people already run tests"). It runs in the interpreter of
your test suite, which needs Python 3.9 or later and pytest (tested with Debian 12's 7.2);
tlsleak itself runs as a process of its own, under the interpreter its launcher chose,
whatever yours is. The launcher is this checkout's `tlsleak`, or the
installed `tlsleak` command; `--tlsleak-command PATH` or TLSLEAK_COMMAND picks another.

A run that finds no leak and no error but cannot judge a cell (tlsleak's exit 4) is not a
pass: the test is skipped with the reason, unless `fail_on_inconclusive=True`,
`--tlsleak-fail-on-inconclusive` or TLSLEAK_FAIL_ON_INCONCLUSIVE=1 asks to fail it.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tlsleak import paths
from tlsleak.vocab import EXIT_INCONCLUSIVE, EXIT_MEANING, EXIT_OK


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

    def __init__(self, out_dir: Path, command: str, fail_on_inconclusive: bool = False):
        self.out_dir = Path(out_dir)
        self.command = command
        self.fail_on_inconclusive = fail_on_inconclusive
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
              env=None, fail_on_inconclusive=None) -> dict:
        """Run `program` (a list: executable and arguments) under tlsleak and fail the test
        unless it exits 0 (no leak); skip it when a cell could not be judged (exit 4), or fail
        it too with `fail_on_inconclusive`. Returns results.json as a dict."""
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
        strict = self.fail_on_inconclusive if fail_on_inconclusive is None \
            else fail_on_inconclusive
        if proc.returncode == EXIT_INCONCLUSIVE and not strict:
            pytest.skip(describe(doc, proc.returncode, proc.stderr))
        if proc.returncode != EXIT_OK:
            pytest.fail(describe(doc, proc.returncode, proc.stderr), pytrace=False)
        return doc


def pytest_addoption(parser):
    parser.addoption("--tlsleak-command", default=None, metavar="PATH",
                     help="the tlsleak launcher the `tlsleak` fixture runs "
                          "(default: $TLSLEAK_COMMAND, else this checkout's ./tlsleak, or the "
                          "installed tlsleak)")
    parser.addoption("--tlsleak-fail-on-inconclusive", action="store_true", default=False,
                     help="fail, not skip, a test whose tlsleak run could not judge a cell "
                          "(also TLSLEAK_FAIL_ON_INCONCLUSIVE=1)")


@pytest.fixture
def tlsleak(request, tmp_path) -> Tlsleak:
    command = (request.config.getoption("--tlsleak-command")
               or os.environ.get("TLSLEAK_COMMAND") or paths.launcher())
    strict = request.config.getoption("--tlsleak-fail-on-inconclusive") \
        or os.environ.get("TLSLEAK_FAIL_ON_INCONCLUSIVE") == "1"
    return Tlsleak(tmp_path / "tlsleak", command, fail_on_inconclusive=strict)
