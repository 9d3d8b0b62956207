"""Integration fixtures: the real CLI, real builds, real allocators, real threads."""
import json
import sys

import pytest

from clihelp import run_cli


@pytest.fixture(scope="session")
def cli():
    return run_cli


@pytest.fixture(scope="session")
def listing():
    r = run_cli("list", "--json")
    assert r.rc == 0, r.stderr
    return json.loads(r.stdout)


@pytest.fixture(scope="session")
def matrix(tmp_path_factory):
    """The default matrix (every scenario x every available configuration), run once."""
    out = tmp_path_factory.mktemp("matrix")
    r = run_cli("run", out=out)
    sys.stderr.write(r.stdout)
    assert r.rc in (0, 1), f"matrix run failed with {r.rc}:\n{r.stdout}\n{r.stderr}"
    return r
