"""A user's own test suite, written as the pytest plugin's documentation shows (README, "Your
own program: CTest, pytest, GitHub Actions"): each program is checked with the `tlsleak`
fixture. tests/corpus/starts.py copies this file into a folder of its own and runs
`pytest -p tlsleak.pytest_plugin` there; the cases come from the JSON file CORPUS_CASES names:
[{"id": ..., "argv": [...], "allocators": [...], "threads": N, "record": FILE}, ...], and each test writes
the fixture's output folder into its `record` file, so the corpus finds the results."""
import json
import os
from pathlib import Path

import pytest

CASES = json.loads(Path(os.environ["CORPUS_CASES"]).read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_no_leak_at_thread_exit(tlsleak, case):
    Path(case["record"]).write_text(str(tlsleak.out_dir))
    tlsleak.check(case["argv"], allocators=case["allocators"], threads=case["threads"])
