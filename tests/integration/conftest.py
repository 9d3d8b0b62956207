"""Integration fixtures: the real CLI, real builds, real allocators, real threads."""
import signal
import sys
from pathlib import Path

import pytest
from _pytest.mark.expression import Expression

from clihelp import configurations, listed, run_cli
from faultyrepo import make_faulty_repo


def pytest_configure(config):
    """The runs the tests start take SIGINT, SIGTERM and SIGHUP as a user's shell hands them
    over. A suite started with them ignored (under nohup, or as a script's background job, as
    some CI agents start it) would pass that on to every run, and a run started with SIGHUP
    ignored rightly keeps going on a hangup: the hangup tests would fail for the way the suite
    was started. The test that needs nohup sets it itself."""
    for s in (signal.SIGHUP, signal.SIGTERM):
        if signal.getsignal(s) == signal.SIG_IGN:
            signal.signal(s, signal.SIG_DFL)
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _selected(metafunc):
    """Whether -m keeps this test, so a unit-only run starts no process while collecting."""
    expr = metafunc.config.option.markexpr
    if not expr:
        return True
    marks = {m.name for m in metafunc.definition.iter_markers()}
    return Expression.compile(expr).evaluate(marks.__contains__)


def pytest_generate_tests(metafunc):
    """A test taking `configuration` (a `tlsleak list --json` entry) runs once per configuration
    the build registers, available or not (a cell of an unavailable one skips, saying why), or
    of the allocators named by `@pytest.mark.allocators(NAME, ...)`: a new allocator is covered
    as soon as its allocators/*.cmake registers it."""
    if "configuration" not in metafunc.fixturenames:
        return
    mark = metafunc.definition.get_closest_marker("allocators")
    confs = configurations(*(mark.args if mark else ())) if _selected(metafunc) else []
    metafunc.parametrize("configuration", confs,
                         ids=[c["label"].replace(":", "-") for c in confs])


@pytest.fixture(scope="session")
def cli():
    return run_cli


@pytest.fixture(scope="session")
def listing():
    return listed()


@pytest.fixture(scope="session")
def system_program(listing):
    """The path of a scenario's program under the system configuration, in this checkout's
    build: what its processes run (another checkout's have the same name)."""
    system = next(c for c in listing["configs"] if c["id"] == "system")
    return lambda scenario: Path(system["bin_dir"]) / scenario


@pytest.fixture(scope="session")
def matrix(tmp_path_factory):
    """The default matrix (every scenario x every available configuration), run once."""
    out = tmp_path_factory.mktemp("matrix")
    r = run_cli("run", out=out)
    sys.stderr.write(r.stdout)
    assert r.rc in (0, 1), f"matrix run failed with {r.rc}:\n{r.stdout}\n{r.stderr}"
    return r


@pytest.fixture(scope="session")
def faulty_repo(tmp_path_factory):
    """(path, {label: commit}): the 8-commit history of the faulty allocator (faultyrepo.py)
    that bisect, compare and the versions tests read; made once."""
    repo = tmp_path_factory.mktemp("faulty-history") / "faulty"
    return repo, make_faulty_repo(repo)
