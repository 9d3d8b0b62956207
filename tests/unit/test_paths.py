"""Where the harness finds the project's sources and where it writes (harness/tlsleak/paths.py):
a checkout keeps build/ and .cache/ in itself, an installed package writes to a folder of the
user's."""
from pathlib import Path

import pytest

from tlsleak import paths

pytestmark = pytest.mark.unit

CHECKOUT = Path(__file__).resolve().parents[2]


def test_from_a_checkout_the_sources_and_what_is_written_are_the_checkout():
    assert paths.CHECKOUT == CHECKOUT and paths.SOURCE == CHECKOUT
    assert paths.state() == CHECKOUT
    assert paths.launcher() == str(CHECKOUT / "tlsleak")


def test_a_checkout_ignores_tlsleak_home(monkeypatch, tmp_path):
    """./tlsleak keeps its build/ and .cache/ exactly where they always were."""
    monkeypatch.setenv("TLSLEAK_HOME", str(tmp_path))
    assert paths.state() == CHECKOUT


def test_installed_it_writes_to_tlsleak_home_else_the_users_cache(monkeypatch, tmp_path):
    monkeypatch.setattr(paths, "CHECKOUT", None)
    monkeypatch.setenv("TLSLEAK_HOME", str(tmp_path / "home"))
    assert paths.state() == tmp_path / "home"
    monkeypatch.delenv("TLSLEAK_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert paths.state() == tmp_path / "xdg" / "tlsleak"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert paths.state() == tmp_path / "user" / ".cache" / "tlsleak"


def test_the_sources_an_install_ships_are_what_cmake_reads():
    """setup.py copies SOURCES into the package: every file or folder the top CMakeLists.txt
    includes or adds (tests/programs excepted: a checkout's only) is among them."""
    import ast
    import re
    tree = ast.parse((CHECKOUT / "setup.py").read_text())
    shipped = next(ast.literal_eval(n.value) for n in ast.walk(tree) if isinstance(n, ast.Assign)
                   and getattr(n.targets[0], "id", "") == "SOURCES")
    cmake = (CHECKOUT / "CMakeLists.txt").read_text()
    read = {m.split("/")[0] for m in re.findall(r"(?:include|add_subdirectory)\(([\w/.-]+)", cmake)}
    assert read - {"tests"} <= {s.split("/")[0] for s in shipped}, read
