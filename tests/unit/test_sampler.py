"""The sampler's records as the harness reads them (docs/DESIGN.md "The sampler"): one model
of the cell's processes, with memory paired with threads finished, gaps measured, and no
sample of a process that is gone."""
import pytest

from tlsleak import sampler

pytestmark = pytest.mark.unit

T0 = 100.0  # the command's start, seconds of CLOCK_MONOTONIC


def ns(t):
    """Nanoseconds of CLOCK_MONOTONIC, `t` seconds after the command started."""
    return int((T0 + t) * 1e9)


def fed(*lines, threads=0):
    tree = sampler.Tree(T0, threads)
    for line in lines:
        tree.feed(line)
    tree.finish()
    return tree


def test_each_process_has_its_memory_in_time_and_paired_with_its_threads_finished():
    tree = fed("H 1 10000000",
               f"N 10 1 500 {ns(0)} sh%20-c%20prog%2010",
               f"S {ns(0.01)}", "P 10 1000 5000 1 0 -1 -1 -1 -1",
               f"N 11 10 501 {ns(0.01)} prog%2010",
               "P 11 2000 9000 2 0 0 4 6 7",
               f"S {ns(0.02)}", "P 10 1000 5000 1 0 -1 -1 -1 -1", "P 11 3000 9000 2 0 0 9 9 10",
               f"S {ns(0.03)}", "P 10 1000 5000 1 0 -1 -1 -1 -1", "P 11 4000 9000 2 0 0 9 9 10")
    sh, prog = tree.procs
    assert (sh.command, prog.command, prog.ppid) == ("sh -c prog 10", "prog 10", 10)
    assert sh.points == [] and sh.slot is None and len(sh.samples) == 3
    # x is the mean of the counts read around the memory figure; one point per count, the
    # first: what the process does after its last thread (exit) is none of its threads'
    assert [(p["done"], p["rss"]) for p in prog.points] == [(5, 2000), (9, 3000)]
    assert (prog.finished, prog.started, prog.slot) == (9, 10, 0)
    # the tree's samples are sums over the processes alive then
    assert [(s["t"], s["rss"], s["threads"]) for s in tree.samples] == [
        (0.01, 3000, 3), (0.02, 4000, 3), (0.03, 5000, 3)]
    assert tree.interval_s == 0.01 and tree.over


def test_a_process_that_is_gone_gives_no_sample_never_a_zero():
    # The sampler writes no P line for a process that is gone (or a zombie): its last sample
    # is its last real one, and a sample of no live process is no sample of the tree.
    tree = fed(f"N 10 1 500 {ns(0)} prog",
               f"S {ns(0.01)}", "P 10 7000 9000 1 0 -1 -1 -1 -1",
               f"G 10 {ns(0.015)}", f"S {ns(0.02)}", f"E {ns(0.02)}")
    prog, = tree.procs
    assert [s["rss"] for s in prog.samples] == [7000] and prog.gone_t == 0.015
    assert [s["rss"] for s in tree.samples] == [7000]
    assert all(s["rss"] > 0 for s in tree.samples)


def test_the_largest_gap_between_samples_is_measured_for_the_cell_and_each_process():
    lines = [f"N 10 1 500 {ns(0)} prog"]
    for t in (0.01, 0.02, 0.05, 0.06):
        lines += [f"S {ns(t)}", "P 10 1000 2000 1 0 -1 -1 -1 -1"]
    tree = fed(*lines)
    assert tree.max_gap_s == pytest.approx(0.03) and tree.procs[0].max_gap_s == pytest.approx(0.03)


def test_an_exec_keeps_the_process_and_takes_its_new_command_a_reused_pid_is_another():
    tree = fed(f"N 10 1 500 {ns(0)} sh%20wrapper", f"N 10 1 500 {ns(0.1)} prog%20--churn",
               f"G 10 {ns(0.2)}", f"N 10 1 777 {ns(0.3)} other")
    assert [(p.pid, p.start, p.command) for p in tree.procs] == [
        (10, 500, "prog --churn"), (10, 777, "other")]


def test_the_sampler_stopping_the_command_says_why():
    capped = fed(f"N 10 1 500 {ns(0)} prog", "X cap rss 1073741824 536870912")
    assert capped.stop == ("cap", "RSS 1024 MiB exceeded the cap 512 MiB")
    maps = fed("X cap maps 70000 65530")
    assert maps.stop == ("cap", "memory mappings 70000 exceeded the cap 65530")
    counted = fed("X threads 10054", threads=10000)
    assert counted.stop == ("threads", "10054 threads finished (--threads 10000)")


def test_libraries_and_maps_are_recorded_per_process():
    tree = fed(f"N 10 1 500 {ns(0)} prog", f"S {ns(0.01)}", "P 10 1 1 1 0 -1 -1 -1 -1",
               "M 10 57", "L 10 1 0")
    prog, = tree.procs
    assert (prog.maps, prog.probe_mapped, prog.preload_mapped) == (57, True, False)
    assert tree.samples[0]["maps"] == 57


def test_a_broken_or_unknown_record_is_ignored():
    tree = fed("P not numbers", "Q what", "", f"N 10 1 500 {ns(0)} prog", "P 10 1 2")
    assert len(tree.procs) == 1 and tree.samples == []


def test_commands_are_unescaped_bytes():
    assert sampler.unescape("a%20b%25c%0A") == "a b%c"
    assert sampler.unescape("caf%C3%A9") == "café"


def test_what_is_kept_is_bounded_first_and_latest_kept():
    kept = []
    for i in range(2 * 5 + 1):
        sampler.keep(kept, i, budget=5)
    assert len(kept) <= 10 and kept[0] == 0 and kept[-1] == 10


def test_a_command_written_by_the_harness_reads_back_whole():
    text = "prog --name 'a b' 100% é\t"
    assert sampler.unescape(sampler.escape(text)) == text.strip()
    assert " " not in sampler.escape(text)
