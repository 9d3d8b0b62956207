"""Which `-a NAME@REF:MODE` specs name a source to build (sourcebuilds.py, versions.spec_for),
and which a configuration the build already has."""
import pytest

from tlsleak import UsageError, sourcebuilds, versions

pytestmark = pytest.mark.unit


def test_spec_for_maps_a_configuration_ref_to_a_source():
    repos = {"mimalloc": "/src/mimalloc"}
    assert versions.spec_for("mimalloc", "v2.1.7", repos) == "git:/src/mimalloc@v2.1.7"
    assert versions.spec_for("jemalloc", "debian", repos) == "debian"
    assert versions.spec_for("jemalloc", "tar:/x/jemalloc-5.3.0.tar.bz2") == (
        "tar:/x/jemalloc-5.3.0.tar.bz2")
    assert versions.spec_for("jemalloc", "5.3.0", repos) is None  # a version CMake knows


def test_repos_are_name_equals_an_existing_folder(tmp_path):
    assert sourcebuilds.parse_repos([f"mimalloc={tmp_path}"]) == {"mimalloc": str(tmp_path)}
    for bad in ["mimalloc", f"={tmp_path}", f"mimalloc={tmp_path / 'absent'}"]:
        with pytest.raises(UsageError):
            sourcebuilds.parse_repos([bad])


def test_a_tree_built_for_windows_is_another_cache_entry_with_the_modes_it_gives_there():
    """The cache key carries the machine the compiler builds for, so one tree built for Linux
    and for Windows (--platform wine) are two entries side by side; mimalloc gives `redirect`
    there (its override on Windows) and `override` (preloading) only on the host's kind."""
    from tlsleak import families
    from tlsleak.families.recipe import target_os
    from tlsleak.platforms import native, wine
    from tlsleak.versions import cache, sources
    mimalloc = families.get("mimalloc")
    src = sources.Source(kind="dir", spec="dir:/t", location="/t", key="tree-" + "f" * 64)
    linux = cache.entry_key(mimalloc, src, "gcc 12", "x86_64-linux-gnu")
    windows = cache.entry_key(mimalloc, src, "gcc 12", "x86_64-w64-mingw32")
    assert linux != windows
    assert (target_os("x86_64-w64-mingw32"), target_os("x86_64-linux-gnu")) == ("windows", "")
    assert wine.TOOLCHAIN.os == "windows" and native.TOOLCHAIN.os == ""
    assert mimalloc.modes_for("windows") == ("static", "dynamic", "redirect")
    assert "redirect" not in mimalloc.modes_for("") and "override" in mimalloc.modes_for("")
    assert mimalloc.recipe.for_os("windows").route == "api" and mimalloc.recipe.route == "malloc"
    with pytest.raises(UsageError, match="has no mode redirect"):
        sourcebuilds.build_one("mimalloc", "dir:/nowhere", ["redirect"], "/tmp")
