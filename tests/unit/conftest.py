"""Fixtures shared by the unit tests of the views."""
import pytest

from resultsdocs import recorded


@pytest.fixture(scope="module")
def doc():
    """The recorded run (resultsdocs.py), read once per module: tests that change it copy it."""
    return recorded()


@pytest.fixture(scope="session")
def written_report(tmp_path_factory):
    """The views of the recorded run (resultsdocs.py), written once for every test that reads
    them: (folder, the paths written). Drawing them takes seconds."""
    from tlsleak import reportfiles  # matplotlib: only for the tests that use it
    out = tmp_path_factory.mktemp("report")
    return out, reportfiles.write_reports(recorded(), out)
