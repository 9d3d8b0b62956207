"""Version readers and configuration labels of the versions backend (no build)."""
import pytest

from tlsleak import versions
from tlsleak.versions import recipes

pytestmark = pytest.mark.unit


def test_mimalloc_versions_are_decoded_as_mimalloc_writes_them():
    # MI_MALLOC_VERSION / mi_version() across microsoft/mimalloc's tags (include/mimalloc.h at
    # v1.8.2, v2.0.9, v2.2.7, v3.1.5: one digit each; v3.0.10, v3.2.8: two-digit patch;
    # v2.3.0, v3.4.3: two-digit minor and patch).
    for number, version in [(182, "1.8.2"), (209, "2.0.9"), (227, "2.2.7"), (315, "3.1.5"),
                            (3010, "3.0.10"), (3208, "3.2.8"), (20300, "2.3.0"),
                            (30403, "3.4.3")]:
        assert versions.mimalloc_decode(number) == version


def test_mimalloc_tree_version_prefers_the_cmake_package_version(tmp_path):
    (tmp_path / "cmake").mkdir()
    (tmp_path / "include").mkdir()
    (tmp_path / "include" / "mimalloc.h").write_text("#define MI_MALLOC_VERSION 30403\n")
    assert recipes.mimalloc_tree_version(tmp_path) == "3.4.3"
    (tmp_path / "cmake" / "mimalloc-config-version.cmake").write_text(
        "set(mi_version_major 3)\nset(mi_version_minor 4)\nset(mi_version_patch 3)\n")
    assert recipes.mimalloc_tree_version(tmp_path) == "3.4.3"


def test_jemalloc_version_from_VERSION_else_the_commits_describe(tmp_path):
    assert recipes.jemalloc_tree_version(tmp_path, "5.3.0-0-g54eaed1") == "5.3.0-0-g54eaed1"
    with pytest.raises(recipes.StepFailed):
        recipes.jemalloc_tree_version(tmp_path, "v1.0-3-gabcdef0")  # not a jemalloc tag
    (tmp_path / "VERSION").write_text("5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c\n")
    assert recipes.jemalloc_tree_version(tmp_path, "") == (
        "5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c")


def test_gperftools_tbb_and_faulty_versions(tmp_path):
    (tmp_path / "configure.ac").write_text("AC_INIT([gperftools],[2.10],[gperftools@googlegroups.com])\n")
    assert recipes.gperftools_tree_version(tmp_path) == "2.10"
    assert recipes.gperftools_decode("gperftools 2.10") == "2.10"
    (tmp_path / "include" / "oneapi" / "tbb").mkdir(parents=True)
    (tmp_path / "include" / "oneapi" / "tbb" / "version.h").write_text(
        "#define TBB_VERSION_MAJOR 2021\n#define TBB_VERSION_MINOR 8\n#define TBB_VERSION_PATCH 0\n")
    assert recipes.tbb_tree_version(tmp_path) == "2021.8.0"
    (tmp_path / "faulty.h").write_text('#define FAULTY_VERSION "1.1.0"\n')
    assert recipes.faulty_tree_version(tmp_path) == "1.1.0"


def test_configuration_labels_name_the_commit_once():
    commit = "54eaed1d8b56b1aa528be3bdd1877e59c56fa90c"
    assert versions.config_version("jemalloc", f"5.3.0-0-g{commit}", "") == "5.3.0-0-g54eaed1"
    assert versions.config_version("jemalloc", "5.3.0-0-g54eaed1", commit) == "5.3.0-0-g54eaed1"
    assert versions.config_version("mimalloc", "2.1.7", commit) == "2.1.7+g54eaed1"
    assert versions.config_version("mimalloc", "2.0.9", "") == "2.0.9"


def test_every_recipe_names_its_modes_and_a_version_reader():
    for name, r in recipes.RECIPES.items():
        assert r.name == name and r.modes and set(r.modes) <= set(recipes.MODES)
        assert callable(r.build) and callable(r.tree_version)
    with pytest.raises(KeyError, match="known: faulty, jemalloc, mimalloc, tbbmalloc, tcmalloc"):
        versions.recipe("snmalloc")


def test_spec_for_maps_a_configuration_ref_to_a_source():
    repos = {"mimalloc": "/src/mimalloc"}
    assert versions.spec_for("mimalloc", "v2.1.7", repos) == "git:/src/mimalloc@v2.1.7"
    assert versions.spec_for("jemalloc", "debian", repos) == "debian"
    assert versions.spec_for("jemalloc", "tar:/x/jemalloc-5.3.0.tar.bz2") == (
        "tar:/x/jemalloc-5.3.0.tar.bz2")
    assert versions.spec_for("jemalloc", "5.3.0", repos) is None  # a version CMake knows
