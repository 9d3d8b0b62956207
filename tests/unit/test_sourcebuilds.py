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
