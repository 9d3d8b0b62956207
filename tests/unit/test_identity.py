"""One allocator identity (harness/tlsleak/identity.py): NAME[@VERSION][:MODE] parsed and
written, versions compared by one rule, and the checks that a program runs the allocator and
the version asked for."""
import pytest

from tlsleak import UsageError, identity

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("text, expected", [
    ("mimalloc", ("mimalloc", None, None)),
    ("mimalloc:override", ("mimalloc", None, "override")),
    ("mimalloc@2.0.9:static", ("mimalloc", "2.0.9", "static")),
    ("jemalloc@5", ("jemalloc", "5", None)),
    ("faulty@1.1.0+g4a188e5:static", ("faulty", "1.1.0+g4a188e5", "static")),
])
def test_parse_accepts(text, expected):
    assert tuple(identity.parse(text)) == expected


@pytest.mark.parametrize("text", ["", "Mimalloc", "mimalloc:", "mimalloc@:static", "a b",
                                  "mimalloc:shared", "mimalloc@2.0:static:x", "../x"])
def test_parse_rejects_in_one_line(text):
    with pytest.raises(UsageError) as e:
        identity.parse(text)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("text, parts", [
    ("mimalloc@2.0.9:static", ("mimalloc", "2.0.9", "static")),
    ("faulty@v1.1.0", ("faulty", "v1.1.0", None)),
    ("mimalloc@dir:/src/mi malloc:static", ("mimalloc", "dir:/src/mi malloc", "static")),
    ("faulty@git:/r/faulty@main:override", ("faulty", "git:/r/faulty@main", "override")),
    ("jemalloc:static", ("jemalloc", None, "static")),
    ("system", ("system", None, None)),
])
def test_source_specs_split_at_the_first_at_and_a_trailing_mode(text, parts):
    assert tuple(identity.split(text)) == parts


@pytest.mark.parametrize("parts, text", [
    (("mimalloc", "2.0.9", "static"), "mimalloc@2.0.9:static"),
    (("mimalloc", None, "dynamic"), "mimalloc:dynamic"),
    (("jemalloc", "5.3.0", None), "jemalloc@5.3.0"),
    (("system", "2.36", "system"), "system"),
])
def test_format_writes_what_parse_reads(parts, text):
    assert identity.format_id(*parts) == text
    if parts[0] != "system":
        assert tuple(identity.parse(text)) == parts


def test_name_and_mode_of_an_id():
    assert identity.name_mode("mimalloc@2.0.9:dynamic") == ("mimalloc", "dynamic")
    assert identity.name_mode("faulty@1.1.0+g4a188e5:override") == ("faulty", "override")
    assert identity.name_mode("system") == ("system", "system")


def test_cell_ids_come_from_the_identity():
    assert identity.cell_id("last_round_alloc", "mimalloc@2.0.9:dynamic") == \
        "last_round_alloc-mimalloc@2.0.9-dynamic"
    assert identity.cell_id("control_leak", "system") == "control_leak-system"


@pytest.mark.parametrize("want, have, named", [
    (None, "2.0.9", True),
    ("2", "2.0.9", True),
    ("2.0", "2.0.9", True),
    ("2.0.9", "2.0.9", True),
    ("2.1", "2.10.0", False),  # a leading part ends at a dot, never inside a number
    ("2.0.9", "2.0", False),
    ("5.3.0", "5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c", True),
    ("5.3.0-0-g54eaed1", "5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c", True),
    ("5.3.0-0-g54eaed1", "5.3.0-0-gdeadbee0000000000000000000000000000000", False),
])
def test_a_version_names_itself_and_the_versions_it_leads(want, have, named):
    assert identity.version_matches(want, have) is named


@pytest.mark.parametrize("wanted, running, agree", [
    ("2.0.9", "2.0.9", True),
    ("2.0.9", "2.1.7", False),
    # jemalloc writes its git id in full; ids compare on 7 digits.
    ("5.3.0-0-g54eaed1", "5.3.0-0-g54eaed1d6b56b1aa50b6b4a3e4a3e0be6e3a7f1", True),
    ("5.3.0-0-g54eaed1", "5.3.0-0-gdeadbee0000000000000000000000000000000", False),
    # a package's header knows only the release
    ("5.3.0", "5.3.0-0-g54eaed1d6b56b1aa50b6b4a3e4a3e0be6e3a7f1", True),
    ("5.2.1", "5.3.0-0-g54eaed1d6b56b1aa50b6b4a3e4a3e0be6e3a7f1", False),
    # gperftools' header has no patch number (TC_VERSION_MAJOR.MINOR), its library does
    ("2.9", "2.9.1", True),
    ("3.2.8", "32.0.8", False),
])
def test_versions_agree_as_the_projects_write_them(wanted, running, agree):
    assert identity.versions_agree(wanted, running) is agree
    assert identity.versions_agree(running, wanted) is agree


def test_a_build_label_names_the_commit_once():
    commit = "54eaed1d8b56b1aa528be3bdd1877e59c56fa90c"
    assert identity.label(f"5.3.0-0-g{commit}") == "5.3.0-0-g54eaed1"
    assert identity.label("5.3.0-0-g54eaed1", commit) == "5.3.0-0-g54eaed1"
    assert identity.label("2.1.7", commit) == "2.1.7+g54eaed1"
    assert identity.label("2.0.9") == "2.0.9"


def test_a_build_from_a_folder_or_a_tarball_is_named_by_its_contents():
    # A folder holding scudo 14.0.6 is not Debian's packaged scudo 14.0.6: one id for both made
    # the allocator check fail the user's own build as a wrong library.
    tree, tar = "tree-" + "1a2b3c4d" * 8, "tar-" + "9f8e7d6c" * 8
    assert identity.label("14.0.6", kind="dir", key=tree) == "14.0.6+d1a2b3c4"
    assert identity.label("14.0.6", kind="tarball", key=tar) == "14.0.6+t9f8e7d6"
    assert identity.label("2.0.9", kind="debian", key=tree) == "2.0.9"  # the package's own
    assert identity.parse("scudo@14.0.6+d1a2b3c4:dynamic").version == "14.0.6+d1a2b3c4"


ALLOC = {"name": "mimalloc", "owns": "1", "malloc_from": "/x/bin/prog", "version": "2.0.9"}


def test_the_allocator_check_names_what_serves_malloc():
    assert identity.allocator_problem(ALLOC, "mimalloc") is None
    assert identity.allocator_problem(ALLOC, "") is None  # nothing expected, nothing checked
    assert "no 'alloc' line" in identity.allocator_problem(None, "mimalloc")
    assert "served by jemalloc" in identity.allocator_problem({**ALLOC, "name": "jemalloc"},
                                                              "mimalloc")
    assert "does not own" in identity.allocator_problem({**ALLOC, "owns": "0"}, "mimalloc")
    assert "route api" in identity.allocator_problem(ALLOC, "mimalloc", route="api")


def test_a_shared_library_must_be_the_configured_file(tmp_path):
    lib = tmp_path / "sp ace é" / "libmimalloc.so.2.0"
    lib.parent.mkdir()
    lib.write_bytes(b"")
    other = tmp_path / "libmimalloc.so.2.0"
    other.write_bytes(b"")
    served = {**ALLOC, "malloc_from": str(lib)}
    assert identity.allocator_problem(served, "mimalloc", str(lib)) is None
    link = tmp_path / "link.so"
    link.symlink_to(lib)
    assert identity.allocator_problem({**ALLOC, "malloc_from": str(link)}, "mimalloc",
                                      str(lib)) is None
    assert "not the configured" in identity.allocator_problem(
        {**ALLOC, "malloc_from": str(other)}, "mimalloc", str(lib))


def test_the_version_check_compares_the_decoded_version():
    asked = identity.version_problem({**ALLOC, "version": "3.2.8", "version_raw": "3208"},
                                     "mimalloc", "3.2.8")
    assert asked is None
    wrong = identity.version_problem({**ALLOC, "version": "2.1.7", "version_raw": "217"},
                                     "mimalloc", "2.0.9")
    assert wrong == "version mismatch: asked for mimalloc 2.0.9, the program runs 2.1.7 " \
                    "(read 217)"
    # no version read in-process (tbbmalloc), or no allocator of its own: nothing to say
    assert identity.version_problem({"name": "tbbmalloc", "owns": "1"}, "tbbmalloc",
                                    "2021.8.0") is None
    assert identity.version_problem({**ALLOC, "name": "system"}, "system", "2.36") is None
