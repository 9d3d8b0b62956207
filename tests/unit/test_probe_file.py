"""The probe's shared file as the harness reads it (docs/DESIGN.md "The probe"): a header and
a slot per process of the command."""
import struct

import pytest

from tlsleak import probe

pytestmark = pytest.mark.unit


def test_a_fresh_file_is_set_up_with_no_slot_claimed(tmp_path):
    path = probe.create(tmp_path / "p")
    data = path.read_bytes()
    assert len(data) == probe.SIZE and data[:8] == b"TLSPROBE"
    read = probe.read_file(path)
    assert read is not None and read.slots == () and (read.claimed, read.overflow) == (0, 0)
    assert read.finished == 0 and read.of(1) is None
    assert path.stat().st_mode & 0o777 == 0o600


def test_create_replaces_a_file_left_by_an_earlier_run(tmp_path):
    path = tmp_path / "p"
    path.write_bytes(probe.encode([{"pid": 77, "started": 5, "finished": 5}]))
    probe.create(path)
    assert probe.read_file(path) == probe.decode(probe.encode())


def test_decode_reads_every_word_at_its_offset():
    # Offsets fixed by probe/probe.h: header of 16 words, then slots of 16 words; native order.
    header = [struct.unpack("=Q", b"TLSPROBE")[0], 2, probe.SLOTS, 16, 3, 1]
    slot = [4242, 987, 1, 10, 7, 8, 3, 123456789, 2, 1, 4000]
    data = bytearray(probe.SIZE)
    struct.pack_into("=6Q", data, 0, *header)
    struct.pack_into("=11Q", data, 8 * (16 + 2 * 16), *slot)  # the third slot
    struct.pack_into("=Q", data, 8 * 16, 4000)  # the first slot; the second is not ready
    read = probe.decode(bytes(data))
    assert (read.claimed, read.overflow) == (3, 1)
    assert [c.pid for c in read.slots] == [4000, 4242]
    counts = read.of(4242)
    assert counts == probe.Counts(pid=4242, start=987, flags=1, started=10, finished=7,
                                  returned=8, detached=3, t_ns=123456789, unwrapped=2,
                                  images=1, parent=4000)
    assert counts.teardown and counts.alive == 3 and read.finished == 7


def test_more_processes_than_slots_are_counted_as_overflow_not_read_past_the_table():
    full = probe.encode([{"pid": i + 1, "finished": 1} for i in range(probe.SLOTS)],
                        claimed=probe.SLOTS + 5, overflow=5)
    read = probe.decode(full)
    assert len(read.slots) == probe.SLOTS and read.overflow == 5 and read.finished == probe.SLOTS


@pytest.mark.parametrize("data", [
    b"",
    b"TLSPROBE",                                   # too short
    b"NOTPROBE" + bytes(probe.SIZE - 8),           # another magic
    probe.encode(version=1),                       # the layout of one process per file
    probe.encode(slot_words=8),                    # another shape
    bytes(probe.SIZE),                             # created by the probe, header not yet set
], ids=["empty", "short", "magic", "version", "shape", "zeros"])
def test_decode_refuses_what_is_not_a_probe_file_of_this_layout(data):
    assert probe.decode(data) is None


def test_read_file_of_a_missing_file_is_none(tmp_path):
    assert probe.read_file(tmp_path / "missing") is None


def test_encode_refuses_an_unknown_word():
    with pytest.raises(ValueError, match="unknown probe words: thread"):
        probe.encode([{"thread": 1}])


def test_environment_preloads_the_allocator_then_the_probe(tmp_path):
    env = probe.environment(tmp_path / "p", "/abs/libtlsleak_probe.so",
                            "/usr/lib/libmimalloc.so.2")
    assert env == {"TLSLEAK_PROBE_FILE": str(tmp_path / "p"),
                   "LD_PRELOAD": "/usr/lib/libmimalloc.so.2 /abs/libtlsleak_probe.so"}
    assert probe.environment("f", "/abs/probe.so")["LD_PRELOAD"] == "/abs/probe.so"
