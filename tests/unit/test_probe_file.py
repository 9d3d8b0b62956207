"""The probe's shared file as the harness reads it (docs/DESIGN.md section 5)."""
import struct

import pytest

from tlsleak import probe

pytestmark = pytest.mark.unit


def test_a_fresh_file_is_set_up_and_unclaimed(tmp_path):
    path = probe.create(tmp_path / "p")
    data = path.read_bytes()
    assert len(data) == probe.SIZE and data[:8] == b"TLSPROBE"
    counts = probe.read_file(path)
    assert counts is not None and not counts.claimed
    assert (counts.started, counts.finished, counts.alive) == (0, 0, 0)
    assert path.stat().st_mode & 0o777 == 0o600


def test_create_replaces_a_file_left_by_an_earlier_run(tmp_path):
    path = tmp_path / "p"
    path.write_bytes(probe.encode(pid=77, started=5, finished=5))
    probe.create(path)
    assert probe.read_file(path) == probe.decode(probe.encode())


def test_decode_reads_every_word_at_its_offset():
    # Offsets fixed by probe/probe.h: word i at byte 8*i, native byte order.
    words = [struct.unpack("=Q", b"TLSPROBE")[0], 1, 4242, 1, 10, 7, 8, 3, 123456789, 2, 1]
    counts = probe.decode(struct.pack("=11Q", *words) + bytes(4096 - 88))
    assert counts == probe.Counts(pid=4242, flags=1, started=10, finished=7, returned=8,
                                  detached=3, t_ns=123456789, unwrapped=2, refused=1)
    assert counts.claimed and counts.teardown and counts.alive == 3


@pytest.mark.parametrize("data", [
    b"",
    b"TLSPROBE",                                   # too short
    b"NOTPROBE" + bytes(4088),                     # another magic
    probe.encode(version=2),                       # another layout
    bytes(4096),                                   # created by the probe, magic not yet set
], ids=["empty", "short", "magic", "version", "zeros"])
def test_decode_refuses_what_is_not_a_probe_file_of_this_version(data):
    assert probe.decode(data) is None


def test_read_file_of_a_missing_file_is_none(tmp_path):
    assert probe.read_file(tmp_path / "missing") is None


def test_reader_sees_updates_of_the_mapped_file_and_none_before_it_exists(tmp_path):
    path = tmp_path / "p"
    with probe.Reader(path) as reader:
        assert reader.read() is None
        probe.create(path)
        assert reader.read().started == 0
        with open(path, "r+b") as fh:  # what the probe does through its own mapping
            fh.seek(8 * probe.WORDS.index("started"))
            fh.write(struct.pack("=QQ", 5, 4))
        counts = reader.read()
        assert (counts.started, counts.finished) == (5, 4)


def test_encode_refuses_an_unknown_word():
    with pytest.raises(ValueError, match="unknown probe words: thread"):
        probe.encode(thread=1)


def test_environment_preloads_the_allocator_then_the_probe(tmp_path):
    env = probe.environment(tmp_path / "p", "/abs/libtlsleak_probe.so",
                            "/usr/lib/libmimalloc.so.2")
    assert env == {"TLSLEAK_PROBE_FILE": str(tmp_path / "p"),
                   "LD_PRELOAD": "/usr/lib/libmimalloc.so.2 /abs/libtlsleak_probe.so"}
    assert probe.environment("f", "/abs/probe.so")["LD_PRELOAD"] == "/abs/probe.so"
