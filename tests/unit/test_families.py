"""The allocator families (harness/tlsleak/families/): each allocator's version read and decoded
in one home. The release values are real: tests/data/allocator-versions.json holds what every
release tag of microsoft/mimalloc, jemalloc/jemalloc, gperftools/gperftools and oneTBB writes
(`git show TAG:FILE` of the upstream histories), with the version each release names."""
import json
from pathlib import Path

import pytest

from tlsleak import families, identity
from tlsleak.families import jemalloc, mimalloc, recipe, tbbmalloc, tcmalloc

pytestmark = pytest.mark.unit

DATA = json.loads((Path(__file__).parents[1] / "data" / "allocator-versions.json").read_text())


def _lines(name):
    """The release lines of one family in the data: the first part of each version, e.g.
    2.0, 3.2 for mimalloc."""
    return sorted({".".join(r["version"].split(".")[:2]) for r in DATA[name]["releases"]})


def test_the_data_covers_every_release_line_the_issue_names():
    lines = set(_lines("mimalloc"))
    assert {"1.0", "1.8", "1.9", "2.0", "2.1", "2.2", "2.3", "3.0", "3.1", "3.2", "3.3",
            "3.4"} <= lines


@pytest.mark.parametrize("release", DATA["mimalloc"]["releases"], ids=lambda r: r["tag"])
def test_every_mimalloc_release_decodes_to_the_version_it_names(release):
    number = release["MI_MALLOC_VERSION"]
    assert mimalloc.decode(number) == release["version"]
    assert mimalloc.decode(str(number)) == release["version"]  # as the alloc line carries it
    # What a program linked with that release prints is read back as that version, and the
    # configuration asked for with the version the tree says agrees with it.
    seen = families.observed({"name": "mimalloc", "version": str(number), "owns": "1"})
    assert seen["version"] == release["version"] and seen["version_raw"] == str(number)
    assert identity.version_problem(seen, "mimalloc", release["version"]) is None


def test_the_four_digit_numbers_of_3_0_and_3_2_are_not_read_as_32(tmp_path):
    # The bug of issue 20: 3208 read by the rule of five-digit numbers gave 32.0.8.
    assert mimalloc.decode(3208) == "3.2.8" and mimalloc.decode(3010) == "3.0.10"
    (tmp_path / "include").mkdir()
    (tmp_path / "include" / "mimalloc.h").write_text(
        "#define MI_MALLOC_VERSION 3208   // major + minor + 2 digits patch\n")
    assert mimalloc.tree_version(tmp_path) == "3.2.8"


def test_a_mimalloc_number_of_an_unknown_width_is_shown_as_read():
    assert mimalloc.decode("123456") == "123456" and mimalloc.decode("2.0.9") == "2.0.9"
    assert families.decode("mimalloc", "") == ""


@pytest.mark.parametrize("release", DATA["jemalloc"]["releases"], ids=lambda r: r["tag"])
def test_every_jemalloc_release_agrees_with_its_header(release):
    running = families.decode("jemalloc", release["mallctl_version"])
    assert running == release["mallctl_version"]  # jemalloc writes its version that way
    assert identity.versions_agree(release["header_version"], running)
    other = f"{release['tag']}-0-g{'0' * 40}"
    assert not identity.versions_agree(identity.label(other), running)


@pytest.mark.parametrize("release", DATA["gperftools"]["releases"], ids=lambda r: r["tag"])
def test_every_gperftools_release_decodes_and_agrees_with_its_header(release, tmp_path):
    assert families.decode("tcmalloc", release["tc_version"]) == release["version"]
    # allocators/tcmalloc.cmake reads TC_VERSION_MAJOR.MINOR from the package's header
    header = f"{release['TC_VERSION_MAJOR']}.{release['TC_VERSION_MINOR']}"
    assert identity.versions_agree(header, release["version"])
    (tmp_path / "configure.ac").write_text(release["AC_INIT"] + ",[gperftools@googlegroups.com])\n")
    assert tcmalloc.tree_version(tmp_path) == release["version"]


@pytest.mark.parametrize("release", DATA["oneTBB"]["releases"], ids=lambda r: r["tag"])
def test_every_onetbb_release_tree_says_its_version(release, tmp_path):
    header = tmp_path / "include" / "oneapi" / "tbb" / "version.h"
    header.parent.mkdir(parents=True)
    header.write_text("\n".join(release["defines"]) + "\n")
    assert tbbmalloc.tree_version(tmp_path) == release["version"]


def test_jemalloc_version_from_VERSION_else_the_commits_describe(tmp_path):
    assert jemalloc.tree_version(tmp_path, "5.3.0-0-g54eaed1") == "5.3.0-0-g54eaed1"
    with pytest.raises(recipe.StepFailed):
        jemalloc.tree_version(tmp_path, "v1.0-3-gabcdef0")  # not a jemalloc tag
    (tmp_path / "VERSION").write_text("5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c\n")
    assert jemalloc.tree_version(tmp_path, "") == (
        "5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c")


def test_faulty_tree_version(tmp_path):
    from tlsleak.families import faulty
    (tmp_path / "faulty.h").write_text('#define FAULTY_VERSION "1.1.0"\n')
    assert faulty.tree_version(tmp_path) == "1.1.0"


def test_an_alloc_record_keeps_what_the_program_printed():
    seen = families.observed({"name": "tcmalloc", "version": "gperftools 2.10", "owns": "1"})
    assert (seen["version"], seen["version_raw"]) == ("2.10", "gperftools 2.10")
    assert families.observed({"name": "tbbmalloc", "owns": "1"}) == {"name": "tbbmalloc",
                                                                      "owns": "1"}
    assert families.observed(None) is None
    # a name no family has: kept as printed
    assert families.observed({"name": "x", "version": "7"})["version"] == "7"


def test_the_registry_has_one_entry_per_allocator_the_c_side_names():
    table = (Path(__file__).parents[2] / "repro" / "common" / "alloc" / "table.c").read_text()
    c_names = [w.split("tl_alloc_")[1] for w in table.split() if w.startswith("&tl_alloc_")]
    assert [n.rstrip(",") for n in c_names] == list(families.FAMILIES)
    for name, fam in families.FAMILIES.items():
        assert fam.name == name and set(fam.modes) <= set(identity.MODES)
        assert callable(fam.decode)
    assert sorted(families.buildable()) == ["faulty", "hoard", "jemalloc", "mimalloc",
                                            "rpmalloc", "scudo", "snmalloc", "tbbmalloc",
                                            "tcmalloc"]
    with pytest.raises(KeyError, match="known: mimalloc, snmalloc, jemalloc"):
        families.get("nosuchalloc")


# LLVM's version lines as llvm/CMakeLists.txt writes them up to LLVM 17 (llvmorg-14.0.6) and
# cmake/Modules/LLVMVersion.cmake from LLVM 18 (llvmorg-19.1.7).
LLVM14 = """if(NOT DEFINED LLVM_VERSION_MAJOR)
  set(LLVM_VERSION_MAJOR 14)
endif()
if(NOT DEFINED LLVM_VERSION_MINOR)
  set(LLVM_VERSION_MINOR 0)
endif()
if(NOT DEFINED LLVM_VERSION_PATCH)
  set(LLVM_VERSION_PATCH 6)
endif()
"""


def test_scudo_reads_llvms_version_from_either_home(tmp_path):
    from tlsleak.families import scudo
    (tmp_path / "old" / "llvm").mkdir(parents=True)
    (tmp_path / "old" / "llvm" / "CMakeLists.txt").write_text(LLVM14)
    assert scudo.tree_version(tmp_path / "old") == "14.0.6"
    (tmp_path / "new" / "cmake" / "Modules").mkdir(parents=True)
    (tmp_path / "new" / "cmake" / "Modules" / "LLVMVersion.cmake").write_text(
        LLVM14.replace("14)", "19)").replace("MINOR 0", "MINOR 1").replace("PATCH 6", "PATCH 7"))
    assert scudo.tree_version(tmp_path / "new") == "19.1.7"
    with pytest.raises(recipe.StepFailed, match="not an LLVM tree"):
        scudo.tree_version(tmp_path)


def test_snmalloc_is_named_by_its_release_tag_only(tmp_path):
    """snmalloc's tree holds no version (its CMakeLists.txt says `project(snmalloc CXX)`)."""
    from tlsleak.families import snmalloc
    (tmp_path / "CMakeLists.txt").write_text("cmake_minimum_required(VERSION 3.14)\n"
                                             "project(snmalloc CXX)\n")
    assert snmalloc.tree_version(tmp_path, "0.7.5-0-g526c55b") == "0.7.5"
    assert snmalloc.tree_version(tmp_path, "0.7.5-12-gf70eb82") == "0.7.5"
    with pytest.raises(recipe.StepFailed, match="no version of its own"):
        snmalloc.tree_version(tmp_path, "")
    with pytest.raises(recipe.StepFailed, match="not a snmalloc tree"):
        snmalloc.tree_version(tmp_path / "..", "0.7.5-0-g526c55b")


def test_rpmalloc_reads_its_header_then_its_changelog(tmp_path):
    from tlsleak.families import rpmalloc
    (tmp_path / "rpmalloc").mkdir()
    header = tmp_path / "rpmalloc" / "rpmalloc.h"
    header.write_text('#define RPMALLOC_VERSION "2.0.1"\n#define RPMALLOC_VERSION_MAJOR 2\n')
    assert rpmalloc.tree_version(tmp_path) == "2.0.1"
    header.write_text("typedef struct rpmalloc_global_statistics_t {\n")  # 1.x: none
    (tmp_path / "CHANGELOG").write_text("1.4.5\n\nFix for issue where span cache was not ...\n")
    assert rpmalloc.tree_version(tmp_path) == "1.4.5"
    (tmp_path / "CHANGELOG").write_text("Fixed a data race\n")
    with pytest.raises(recipe.StepFailed, match="without a version"):
        rpmalloc.tree_version(tmp_path)


def test_hoard_believes_its_tag_before_its_header(tmp_path):
    """Hoard 3.10-3.12's VERSION.h says 4.0.0; 3.13's says 3.13.0."""
    from tlsleak.families import hoard
    (tmp_path / "src" / "source").mkdir(parents=True)
    (tmp_path / "src" / "source" / "libhoard.cpp").write_text("// Hoard\n")
    (tmp_path / "src" / "include").mkdir()
    version_h = tmp_path / "src" / "include" / "VERSION.h"
    version_h.write_text('#define HOARD_VERSION_STRING "4.0.0"\n')
    assert hoard.tree_version(tmp_path, "3.11-0-gee35359") == "3.11"
    with pytest.raises(recipe.StepFailed, match="4.0.0"):
        hoard.tree_version(tmp_path, "")
    version_h.write_text('#define HOARD_VERSION_STRING "3.13.0"\n')
    assert hoard.tree_version(tmp_path, "") == "3.13.0"
