"""Fixtures of the corpus suite: the corpus built once per session (its own CMake project),
its recorded truth, and the configurations it runs under."""
import pytest

import corpus


def pytest_configure(config):
    config.addinivalue_line("markers", "guards(WHAT): the behaviour of tlsleak a corpus case "
                            "holds to the outside truth (test_starts.py)")


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    return corpus.build(tmp_path_factory.mktemp("corpus-build"))


@pytest.fixture(scope="session")
def truth():
    return corpus.load_truth()


@pytest.fixture(scope="session")
def labels():
    """system first, then the available overrides of real allocators."""
    return [c["label"] for c in corpus.configurations() if c["available"]]
