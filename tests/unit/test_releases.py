"""releases.py: the order of a release history (tag names as versions, or commit dates), how
releases are dealt to shards, the fingerprint every shard shares, and the merge of the shards'
`history` blocks (README "Release history")."""
import pytest

from tlsleak import UsageError, releases
from tlsleak.settings import Settings

pytestmark = pytest.mark.unit


def _rel(ref, date="", commit=None):
    return releases.Release(ref=ref, commit=commit or (ref.encode().hex() * 40)[:40], date=date)


def test_tags_in_version_order_compare_numbers_as_numbers():
    tags = ["v2.1.10", "v2.1.7a", "v2.0.9", "v2.1.7", "v2.10.0", "v2.2.0"]
    got = releases.ordered([_rel(t) for t in tags], "version")
    assert [r.ref for r in got] == ["v2.0.9", "v2.1.7", "v2.1.7a", "v2.1.10", "v2.2.0",
                                    "v2.10.0"]
    assert [r.index for r in got] == list(range(6))


def test_date_order_is_the_commits_dates_ties_by_version():
    rels = [_rel("v1.10", "2024-01-02T00:00:00+00:00"), _rel("v1.9", "2024-01-02T00:00:00+00:00"),
            _rel("v3.0", "2023-12-31T00:00:00+00:00")]
    assert [r.ref for r in releases.ordered(rels, "date")] == ["v3.0", "v1.9", "v1.10"]


def test_shards_deal_the_releases_disjoint_and_covering():
    rels = releases.ordered([_rel(f"v{i}") for i in range(7)], "version")
    shards = [releases.dealt(rels, k, 3) for k in (1, 2, 3)]
    assert sorted(r.index for s in shards for r in s) == list(range(7))
    assert [len(s) for s in shards] == [3, 2, 2]


def test_the_fingerprint_is_the_whole_historys_and_changes_with_it():
    rels = [_rel("v1"), _rel("v2")]
    fp = releases.fingerprint("faulty", ["static"], ["a"], rels, Settings())
    assert fp == releases.fingerprint("faulty", ["static"], ["a"], list(rels), Settings())
    assert fp != releases.fingerprint("faulty", ["static"], ["a"], rels[:1], Settings())
    assert fp != releases.fingerprint("faulty", ["dynamic"], ["a"], rels, Settings())


def _block(rels):
    return releases.block("faulty", "/r", ["static"], ["a"], "version", "--tags v*", rels)


def test_merged_blocks_list_every_shards_releases_in_history_order():
    rels = releases.ordered([_rel(f"v{i}") for i in range(5)], "version")
    for r in rels:
        r.built, r.ids = True, [f"faulty@{r.ref}:static"]
    shard_blocks = [_block(releases.dealt(rels, k, 2)) for k in (2, 1)]
    merged = releases.merged(shard_blocks)
    assert merged == _block(rels)
    assert releases.config_order(merged) == {f"faulty@v{i}:static": i for i in range(5)}
    assert releases.merged([None, None]) is None


def test_blocks_of_different_histories_do_not_merge():
    a, b = _block([_rel("v1")]), _block([_rel("v2")])
    b["scenarios"] = ["other"]
    with pytest.raises(UsageError):
        releases.merged([a, b])
