"""Fixtures of the corpus suite: the corpus built once per session (its own CMake project),
its recorded truth, and the configurations it runs under."""
import pytest

import corpus


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
