"""Parsing the TLSLEAK/1 checkpoint lines (docs/DESIGN.md "Checkpoint line format")."""
import pytest

from tlsleak.checkpoints import CheckpointLog, Record, parse_line, series

pytestmark = pytest.mark.unit

START = ("TLSLEAK/1 start scenario=control_leak tls=none threads=20000 concurrency=1 size=1024 "
         "interval=500 pid=4242 os=linux")
ALLOC = ("TLSLEAK/1 alloc name=mimalloc version=2.0.9 owns=1 "
         "malloc_from=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2.0 libc=glibc-2.36")
CP0 = ("TLSLEAK/1 cp done=0 t_ns=0 rss=3932160 vsize=10817536 maps=45 os_threads=1 "
       "heap_inuse=1024 heap_mapped=4194304")
CP1 = "TLSLEAK/1 cp done=500 t_ns=1234567 rss=4456448 vsize=10817536 maps=46 os_threads=1\n"
END = "TLSLEAK/1 end done=20000 status=ok"


def test_start_line_types_numbers_as_int_and_names_as_str():
    rec = parse_line(START)
    assert rec == Record("start", {"scenario": "control_leak", "tls": "none", "threads": 20000,
                                   "concurrency": 1, "size": 1024, "interval": 500, "pid": 4242,
                                   "os": "linux"})


def test_alloc_version_stays_a_string_even_when_it_looks_numeric():
    rec = parse_line(ALLOC)
    assert rec.kind == "alloc"
    assert rec.fields["version"] == "2.0.9"
    assert rec.fields["owns"] == 1
    assert rec.fields["malloc_from"] == "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2.0"
    assert parse_line("TLSLEAK/1 alloc name=jemalloc version=5 owns=1").fields["version"] == "5"


def test_a_value_written_with_percent_escapes_reads_back_as_it_was():
    # repro/common/report.c writes a space, a control byte or '%' as %XX (DESIGN.md,
    # "Checkpoint line format"): a checkout under a path with a space (issue 20)
    rec = parse_line("TLSLEAK/1 alloc name=faulty version=1.0.0 owns=1 "
                     "malloc_from=/home/me/sp%20ace%20%C3%BCn/build/lib/libfaulty.so "
                     "libc=glibc-2.36")
    assert rec.fields["malloc_from"] == "/home/me/sp ace ün/build/lib/libfaulty.so"
    assert parse_line("TLSLEAK/1 alloc name=x version=100%25").fields["version"] == "100%"


def test_the_alloc_record_carries_the_version_its_family_decodes():
    log = CheckpointLog.from_lines(["TLSLEAK/1 alloc name=mimalloc version=3208 owns=1",
                                    "TLSLEAK/1 alloc name=jemalloc version=5.3.0-0-gabc owns=1"])
    assert (log.alloc["version"], log.alloc["version_raw"]) == ("3.2.8", "3208")
    log = CheckpointLog.from_lines(["TLSLEAK/1 alloc name=tcmalloc version=gperftools%202.10"])
    assert (log.alloc["version"], log.alloc["version_raw"]) == ("2.10", "gperftools 2.10")


def test_cp_line_with_trailing_newline_and_unknown_keys_kept():
    rec = parse_line(CP1.rstrip("\n") + " future_key=7 label=abc\r\n")
    assert rec.kind == "cp"
    assert rec.fields["done"] == 500 and rec.fields["rss"] == 4456448
    assert rec.fields["future_key"] == 7 and rec.fields["label"] == "abc"


def test_negative_integers_are_ints():
    assert parse_line("TLSLEAK/1 cp done=1 delta=-5").fields["delta"] == -5


@pytest.mark.parametrize("line", [
    "",
    "hello world",
    "TLSLEAK/1",                          # no kind
    "TLSLEAK/1 ",                         # no kind
    "TLSLEAK/1 cp done=5 rss",            # token without '='
    "TLSLEAK/1 cp done=5 =12",            # empty key
    "TLSLEAK/1 cp rss=100",               # cp without done
    "TLSLEAK/1 cp done=abc rss=100",      # done not an integer
    "TLSLEAK/1 cp done=-1 rss=100",       # done negative
    "TLSLEAK/1cp done=5",                 # no space after the version
    "TLSLEAK/x cp done=5",                # unreadable version
    "TLSLEAK/2 cp done=5 rss=100",        # another major version
    "xTLSLEAK/1 cp done=5",
    "TLSLEAK/1 CP done=5",                # kinds are lower case
])
def test_malformed_or_foreign_lines_give_none(line):
    assert parse_line(line) is None


@pytest.mark.parametrize("junk", [None, 5, b"TLSLEAK/1 cp done=1", "\x00\xff", "TLSLEAK/1 cp done=1=2"])
def test_parse_line_never_raises(junk):
    out = parse_line(junk)
    assert out is None or isinstance(out, Record)


def test_value_may_contain_equals_sign_after_the_first():
    assert parse_line("TLSLEAK/1 alloc name=a=b").fields["name"] == "a=b"


def test_log_accumulates_a_run():
    log = CheckpointLog()
    lines = ["starting up", START, ALLOC, CP0, "some program chatter", CP1,
             "TLSLEAK/1 cp done=1000 t_ns=2000000 vsize=1", END]
    for i, line in enumerate(lines):
        log.feed(line, 0.5 * i)
    assert log.start["scenario"] == "control_leak"
    assert log.alloc["name"] == "mimalloc"
    assert log.end == {"done": 20000, "status": "ok"}
    assert [cp["done"] for cp in log.checkpoints] == [0, 500, 1000]
    assert [cp["t_recv"] for cp in log.checkpoints] == [1.5, 2.5, 3.0]
    assert log.checkpoints[1]["rss"] == 4456448
    assert log.other_lines == 2
    assert log.malformed == 0
    assert log.version_mismatch is None
    # the series skips the checkpoint without rss
    assert log.series("rss") == ([0, 500], [3932160, 4456448])
    assert log.series("vsize") == ([0, 500, 1000], [10817536, 10817536, 1])
    assert log.series("commit") == ([], [])
    assert log.timeline() == [(1.5, 0), (2.5, 500), (3.0, 1000)]
    assert log.done == 20000
    assert "rss" in log.fields() and "heap_mapped" in log.fields()
    assert "done" not in log.fields() and "os_threads" not in log.fields()


def test_log_counts_malformed_lines_apart_from_program_output():
    log = CheckpointLog.from_lines(["TLSLEAK/1 cp rss=5", "TLSLEAK/1 cp done=1 rss", "plain"])
    assert log.checkpoints == []
    assert log.malformed == 2
    assert log.other_lines == 1


def test_log_records_version_mismatch_and_ignores_those_lines():
    log = CheckpointLog.from_lines([START, "TLSLEAK/2 cp done=0 rss=1", "TLSLEAK/2 cp done=5 rss=2",
                                    "TLSLEAK/1 cp done=10 rss=3"], t_recv=1.0)
    assert log.version_mismatch == "2"
    assert log.mismatched_lines == 2
    assert [cp["done"] for cp in log.checkpoints] == [10]


def test_log_accepts_a_minor_version_of_format_1():
    log = CheckpointLog.from_lines(["TLSLEAK/1.1 cp done=3 rss=9"])
    assert log.version_mismatch is None
    assert log.series("rss") == ([3], [9])


def test_log_keeps_the_first_start_and_unknown_kinds():
    log = CheckpointLog.from_lines([START, START.replace("control_leak", "other"),
                                    "TLSLEAK/1 note text=hi"])
    assert log.start["scenario"] == "control_leak"
    assert [r.kind for r in log.unknown] == ["note"]


def test_log_done_without_end_is_the_last_checkpoint():
    log = CheckpointLog.from_lines([CP0, CP1])
    assert log.end is None
    assert log.done == 500


def test_series_over_plain_dicts_skips_non_integers():
    cps = [{"done": 0, "rss": 1}, {"done": 1, "rss": "n/a"}, {"done": 2}, {"done": 3, "rss": 4},
           {"done": 4, "rss": True}]
    assert series(cps, "rss") == ([0, 3], [1, 4])


def test_feed_accepts_bytes():
    log = CheckpointLog()
    log.feed(CP1.encode(), 0.1)
    assert log.series("rss") == ([500], [4456448])
