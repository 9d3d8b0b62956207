"""repro/common/block.c: a block a scenario allocates occupies memory whole. RSS counts only
the pages a program touched, so a block that was allocated but not written would show as a
few KiB however large it is; tl_block_new writes every byte (explore's `large` action and the
catalog's blocks all come from it). Measured end to end: control_leak keeps one block per
thread, and a 1 MiB block must leak 1 MiB per thread, not a page."""
import pytest

from clihelp import cell, run_cli

pytestmark = pytest.mark.integration

MiB = 1 << 20


def test_a_leaked_large_block_counts_whole_in_rss(tmp_path):
    r = run_cli("run", "-a", "system", "-s", "control_leak", "--no-controls",
                "--size", str(MiB), "--threads", "400", "--interval", "20", out=tmp_path)
    assert r.rc == 0, r.stdout + r.stderr  # a positive control that leaks is no finding
    c = cell(r.doc, "control_leak", "system")
    assert c["verdict"] == "leak" and c["signal"] == "rss", c["reason"]
    # glibc serves a 1 MiB block by its own mmap: the block plus a page of header, no more.
    assert MiB <= c["rate"]["value"] <= MiB + 8192, c["rate"]
