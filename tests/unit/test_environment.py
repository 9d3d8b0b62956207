"""The environment of a cell (harness/tlsleak/environment.py): what it inherits, and a library
to preload named by a path the preload variable can carry wherever the checkout is (LD_PRELOAD
splits its list at spaces and colons: issue 20, a checkout under a path with a space)."""
import os
import tempfile

import pytest

from tlsleak import environment

pytestmark = pytest.mark.unit


def test_a_plain_path_is_preloaded_as_it_is():
    assert environment.preload_path("/usr/lib/x86_64-linux-gnu/libmimalloc.so.2.0") == \
        "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2.0"
    assert environment.preload_path("") == ""


@pytest.mark.parametrize("folder", ["sp ace", "co:lon", "ünï cödé"])
def test_a_path_the_variable_would_split_is_named_by_a_link(tmp_path, monkeypatch, folder):
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    lib = tmp_path / folder / "libfaulty.so"
    lib.parent.mkdir()
    lib.write_bytes(b"\x7fELF")
    named = environment.preload_path(str(lib))
    assert not any(c in named for c in " :") and os.path.samefile(named, lib)
    assert environment.preload_path(str(lib)) == named  # the same link every time


def test_no_link_where_the_temporary_folder_itself_has_a_space(tmp_path, monkeypatch):
    (tmp_path / "t m p").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "t m p"))
    with pytest.raises(ValueError, match="set TMPDIR"):
        environment.preload_path(str(tmp_path / "a b" / "libfaulty.so"))


def test_parse_assignments():
    assert environment.parse_assignments(["A=1", "B_2=x=y"]) == {"A": "1", "B_2": "x=y"}
    with pytest.raises(ValueError):
        environment.parse_assignments(["1A=2"])
