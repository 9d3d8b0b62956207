"""How `-a` specs with a source split (NAME@REF:MODE, REF possibly holding ':' and '@'), as
`tlsleak compare` and `run` take them. (How compare labels a scenario: test_compare.py.)"""
import pytest

from tlsleak import sourcebuilds

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("text, parts", [
    ("mimalloc@2.0.9:static", ("mimalloc", "2.0.9", "static")),
    ("faulty@v1.1.0", ("faulty", "v1.1.0", None)),
    ("mimalloc@dir:/src/mi malloc:static", ("mimalloc", "dir:/src/mi malloc", "static")),
    ("faulty@git:/r/faulty@main:override", ("faulty", "git:/r/faulty@main", "override")),
    ("jemalloc:static", ("jemalloc", None, "static")),
])
def test_source_specs_split_at_the_first_at_and_a_trailing_mode(text, parts):
    assert sourcebuilds.split(text) == parts
