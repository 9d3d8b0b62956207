"""The corpus itself (corpus.py, truth.json, the README's corpus table): the outside
measurement reads a growth per thread from RSS at N and 3N threads and implies a verdict only
with a margin on each side of the floor; the recorded truth is what the measurement gave (no
number edited by hand), covers every program, and each leaking twin leaks where its twin does
not; the README's table has the benchmark script's columns."""
import json
import re
import statistics

import pytest

import corpus
import starts

pytestmark = pytest.mark.unit

PROGRAMS = {p.name: p for p in corpus.programs()}


def test_readings_are_parsed_and_foreign_lines_ignored():
    text = "at=2500 rss=4096000\nsomething else\nat=7500 rss=5120000\ntotal=10000\n"
    assert corpus.parse_readings(text) == ({2500: 4096000, 7500: 5120000}, 10000)
    assert corpus.parse_readings("") == ({}, None)


def test_the_readings_surround_n_and_3n_a_quarter_and_three_quarters_of_the_threads():
    n, at = corpus.thresholds(PROGRAMS["glib_private"])
    assert n == PROGRAMS["glib_private"].threads // 4
    assert at[1][len(at[1]) // 2] == n and at[3][len(at[3]) // 2] == 3 * n
    assert min(at[1]) < n < max(at[1]) and max(at[3]) <= PROGRAMS["glib_private"].threads


@pytest.mark.parametrize("rates, verdict", [
    ([2050, 2049, 2100], "leak"), ([0, 3.2, -10], "ok"),
    ([0, 0, corpus.OK_BELOW * corpus.FLOOR + 1], "close"),  # one run too near: not called
    ([corpus.LEAK_ABOVE * corpus.FLOOR - 1, 4000, 4000], "close"),
    ([corpus.FLOOR, corpus.FLOOR, corpus.FLOOR], "close")])
def test_a_verdict_is_implied_only_with_a_margin_in_every_run(rates, verdict):
    assert corpus.implied(rates) == verdict


@pytest.fixture(scope="module")
def truth():
    return corpus.load_truth()


def test_the_truth_is_what_its_runs_measured_and_says_where_they_came_from(truth):
    for name, entry in truth["programs"].items():
        assert name in PROGRAMS, f"{name}: measured but not in programs.json"
        assert entry["n"] == corpus.thresholds(PROGRAMS[name])[0], name
        for label, t in entry["configs"].items():
            assert t["rate"] == round(statistics.median(t["runs"]), 1), (name, label)
            assert t["verdict"] == corpus.implied(t["runs"]), (name, label)
            assert len(t["runs"]) >= 3, (name, label)
            measured = truth["measurements"][t["measured"]]
            assert measured["command"].startswith("ci/corpus.py truth"), (name, label)
            assert measured["harness"]["commit"] and measured["compilers"]["C"], (name, label)


def test_measuring_again_keeps_what_was_not_measured_with_its_own_measurement():
    old = {"measurements": [{"command": "a"}, {"command": "b"}], "programs": {
        "p": {"threads": 8, "n": 2, "configs": {"system": {"rate": 1, "measured": 1},
                                                "x:override": {"rate": 2, "measured": 1}}},
        "q": {"threads": 8, "n": 2, "configs": {"system": {"rate": 3, "measured": 0}}}}}
    new = {"measurements": [{"command": "c"}], "programs": {
        "p": {"threads": 8, "n": 2, "configs": {"system": {"rate": 9, "measured": 0}}}}}
    out = corpus.merged(new, old)
    assert [m["command"] for m in out["measurements"]] == ["c", "b", "a"]
    p, q = out["programs"]["p"]["configs"], out["programs"]["q"]["configs"]
    assert (p["system"], p["x:override"]) == ({"rate": 9, "measured": 0},
                                              {"rate": 2, "measured": 1})
    assert q["system"] == {"rate": 3, "measured": 2}


def test_every_program_has_a_verdict_under_system(truth):
    for name in PROGRAMS:
        t = corpus.truth_of(truth, name, "system")
        assert t is not None, f"{name}: no truth measured (ci/corpus.py truth -p {name})"
        assert t["verdict"] in ("ok", "leak"), (name, t)


def test_each_leaking_twin_leaks_where_its_twin_does_not(truth):
    pairs = [(p.name, p.twin) for p in PROGRAMS.values() if p.twin and "leak" in p.name]
    assert pairs
    for leaky, tidy in pairs:
        assert PROGRAMS[tidy].twin == leaky
        configs = truth["programs"][leaky]["configs"]
        for label, t in configs.items():
            assert t["verdict"] == "leak", (leaky, label, t)
            assert corpus.truth_of(truth, tidy, label)["verdict"] == "ok", (tidy, label)


def _readme_section():
    text = (corpus.ROOT / "README.md").read_text()
    start, end = (text.index(m) for m in starts.README_MARKS)
    return text[start:end]


def test_the_readme_table_is_the_benchmark_scripts_table():
    section = _readme_section()
    assert re.search(r"Measured \d{4}-\d\d-\d\d on \d+ cores .*`ci/corpus\.py table", section)
    lines = [line for line in section.splitlines() if line.startswith("|")]
    assert lines[0] == "| " + " | ".join(starts.COLUMNS) + " |"
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    assert rows
    for row in rows:
        assert len(row) == len(starts.COLUMNS), row
        assert row[0] in PROGRAMS and row[1] in starts.STARTS, row
        assert re.fullmatch(r"(yes|NO) \d+/\d+", row[-1]), row
    shown = {row[0] for row in rows}
    assert shown == set(PROGRAMS), "the README's table shows every program of the corpus"


def test_the_suite_runs_every_configuration_directly_and_each_other_start_meets_every_override():
    names, labels = list(PROGRAMS), ["system", "a:override", "b:override", "c:override"]
    assert starts.suite_plan("direct", names, labels) == {n: labels for n in names}
    for start in starts.STARTS:
        if start == "direct":
            continue
        plan = starts.suite_plan(start, names, labels)
        assert set(plan) == set(names) and all(c[0] == "system" for c in plan.values())
        extra = [label for chosen in plan.values() for label in chosen[1:]]
        assert sorted(extra) == labels[1:], start  # each override once, beside system
    # the programs paired with an override differ from one start to the next
    paired = [tuple(n for n, c in starts.suite_plan(s, names, labels).items() if len(c) > 1)
              for s in starts.STARTS if s != "direct"]
    assert len(set(paired)) == len(paired)


def test_the_readme_states_the_rule_the_truth_applies():
    text = (corpus.ROOT / "README.md").read_text()
    text = text[text.index("## Corpus"):text.index(starts.README_MARKS[0])]
    text = " ".join(text.split())
    assert corpus.LEAK_ABOVE == 2 and corpus.OK_BELOW == 0.5
    assert (f"at least twice the floor ({corpus.LEAK_ABOVE * corpus.FLOOR:.0f} B/thread), `ok` "
            f"when each is at most half of it ({corpus.OK_BELOW * corpus.FLOOR:.0f})") in text
    assert (corpus.AROUND[0], corpus.AROUND[-1]) == (0.75, 1.25)
    assert "from 0.75 N to 1.25 N" in text and "N a quarter of its threads" in text
    assert "`ci/corpus.py truth --runs 3`" in text


def test_design_md_names_every_field_of_programs_json_and_of_the_truth_file(truth):
    text = (corpus.ROOT / "docs" / "DESIGN.md").read_text()
    text = text[text.index("## The corpus"):]
    entry = next(iter(truth["programs"].values()))
    fields = [*(k for k in truth if k != "format"), *truth["measurements"][0], *entry,
              *next(iter(entry["configs"].values()))]
    doc = json.loads((corpus.HERE / "programs.json").read_text())
    fields += sorted({key for p in doc["programs"] for key in p})
    assert [f for f in fields if f"`{f}`" not in text] == []
    assert f'`"format": "{corpus.TRUTH_FORMAT}"`' in text


def _outcome(config, verdict, status, unit="B/thread"):
    return starts.Outcome("p", "sh -c", config, verdict, 0.0, unit, "why", status, "r.json")


def _why(truth, plan, *outcomes):
    return [why for _, why in starts.judged(list(outcomes), truth, plan)]


LEAKS = {"programs": {"p": {"configs": {"system": {"verdict": "leak"}}}}}


@pytest.mark.parametrize("verdict, status, wrong", [
    ("leak", 1, ""),
    ("ok", 0, "tlsleak says ok (why), the outside measurement leak; the sh -c start "
              "answered 0 for a program that leaks"),  # the wrong ok of a leak behind sh -c
    ("inconclusive", 0, "tlsleak says inconclusive (why), the outside measurement leak; the "
                        "sh -c start answered 0 for a program that leaks"),
    ("leak", 3, "the sh -c start answered 3 for a program that leaks")])
def test_a_leaking_program_agrees_only_as_a_leak_that_fails_its_start(verdict, status, wrong):
    assert _why(LEAKS, {"p": ["system"]}, _outcome("system", verdict, status)) == [wrong]


def test_a_program_that_does_not_leak_must_pass_its_start_and_a_false_leak_is_blamed_alone():
    truth = {"programs": {"p": {"configs": {"system": {"verdict": "ok"},
                                            "a:override": {"verdict": "ok"}}}}}
    plan = {"p": ["system", "a:override"]}
    assert _why(truth, plan, _outcome("system", "ok", 0), _outcome("a:override", "ok", 0)) \
        == ["", ""]
    both = _why(truth, plan, _outcome("system", "ok", 1), _outcome("a:override", "ok", 1))
    assert all("answered 1 for a program that does not leak" in why for why in both)
    # the false leak of one configuration fails the run: that cell is wrong, not its sibling
    one = _why(truth, plan, _outcome("system", "ok", 1), _outcome("a:override", "leak", 1))
    assert one[0] == "" and one[1].startswith("tlsleak says leak (why)")


def test_an_ok_judged_in_time_is_not_agreement_for_a_program_whose_threads_finish():
    # `sh -c` or a wrapper without exec: the shell's flat RSS judged in B/s, the program unseen
    truth = {"programs": {"p": {"configs": {"system": {"verdict": "ok"}}}}}
    assert _why(truth, {"p": ["system"]}, _outcome("system", "ok", 0, "B/s")) == [
        "tlsleak's ok is judged in B/s, not per thread: the program's threads went uncounted "
        "(why)"]
