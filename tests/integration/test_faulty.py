"""faulty, tlsleak's own allocator (allocators/faulty/), through the real CLI: with no switch
every scenario is ok and the positive control leaks its block size; each teardown bug switched
on with TLSLEAK_FAULTY makes the scenarios of its shape leak a whole thread cache per thread,
and leaves a scenario of another shape alone (so each switch is one mistake, not a blanket
leak). The switch reaches the programs only when given with --env, and is recorded in each cell."""
import pytest

from clihelp import cell, configurations, run_cli

pytestmark = pytest.mark.integration

THREADS = "4000"
CACHE_BYTES = 16 * 1024  # a leaked thread cache is larger than this (about 24 KiB)

# switch -> (scenarios it must make leak, a scenario it must leave ok)
SWITCHES = {
    # teardown does not mark the thread done: a key destructor's later malloc re-creates the
    # cache, which is never armed again
    "recreate": (["dtor_allocates", "last_round_alloc"], "dealloc_only_thread"),
    # teardown forgets the cache: every thread that malloc'd leaks it
    "drop": (["pthread_key_dtor_free", "seed_thread_local"], "dealloc_only_thread"),
    # free makes a cache nobody arms: a thread that only frees (jemalloc #2351) keeps it
    "skip_free_only": (["dealloc_only_thread"], "dtor_allocates"),
}


def _scenarios(listing, names):
    known = {s["name"] for s in listing["scenarios"]}
    missing = [n for n in names if n not in known]
    if missing:
        pytest.skip(f"scenario(s) not in this tree: {', '.join(missing)}")
    return names


def _run(tmp_path, *args):
    r = run_cli("run", "-a", "faulty", "--threads", THREADS, *args, out=tmp_path)
    # 4: a bounded cache may end inconclusive, which the run's exit code says
    assert r.rc in (0, 1, 4), f"run failed with {r.rc}:\n{r.stdout}\n{r.stderr}"
    return r.doc


@pytest.fixture(scope="module")
def unswitched(tmp_path_factory):
    """The default matrix (controls included) under every faulty configuration, no switch."""
    mp = pytest.MonkeyPatch()
    mp.delenv("TLSLEAK_FAULTY", raising=False)
    try:
        out = tmp_path_factory.mktemp("faulty-none")
        r = run_cli("run", "-a", "faulty", "--threads", THREADS, out=out)
    finally:
        mp.undo()
    assert r.rc == 0, f"faulty with no switch found something ({r.rc}):\n{r.stdout}\n{r.stderr}"
    return r.doc


@pytest.mark.allocators("faulty")
def test_no_switch_every_default_scenario_is_ok(unswitched, listing, configuration):
    default = [s["name"] for s in listing["scenarios"] if s["role"] in ("scenario", "control-flat")]
    assert default
    for name in default:
        c = cell(unswitched, name, configuration["label"])
        assert c["verdict"] == "ok", (name, c["reason"])
        assert c["observed_allocator"]["name"] == "faulty", name
        assert c["observed_allocator"]["owns"] is True, name


@pytest.mark.allocators("faulty")
def test_no_switch_control_leak_leaks_its_block(unswitched, configuration):
    c = cell(unswitched, "control_leak", configuration["label"])
    assert c["verdict"] == "leak", c["reason"]
    assert 1024 <= c["rate"]["value"] <= 1024 + 256, c["rate"]
    assert unswitched["controls"]["passed"], unswitched["controls"]["failures"]


@pytest.mark.parametrize("switch", list(SWITCHES))
def test_switch_leaks_a_cache_per_thread_in_its_scenarios(tmp_path, listing, switch):
    leaky, spared = SWITCHES[switch]
    names = _scenarios(listing, leaky + [spared])
    doc = _run(tmp_path, "--no-controls", "--env", f"TLSLEAK_FAULTY={switch}",
               *[a for n in names for a in ("-s", n)])
    assert all(c["env"].get("TLSLEAK_FAULTY") == switch for c in doc["cells"])
    for config in [c["label"] for c in configurations("faulty")]:
        for name in leaky:
            c = cell(doc, name, config)
            assert c["verdict"] == "leak", (switch, name, config, c["reason"])
            assert c["rate"]["value"] > CACHE_BYTES, (switch, name, config, c["rate"])
        c = cell(doc, spared, config)
        assert c["verdict"] == "ok", (switch, spared, config, c["reason"])


def test_unknown_switch_is_an_error_not_a_silent_pass(tmp_path):
    r = run_cli("run", "-a", "faulty:override", "-s", "control_flat", "--no-controls",
                "--threads", "100", "--env", "TLSLEAK_FAULTY=recreat", out=tmp_path)
    c = cell(r.doc, "control_flat", "faulty:override")
    assert c["verdict"] == "error", c
    assert r.rc == 3


# Not bugs: bounded caches (allocators/faulty/faulty.c, `fill` and `steps`), 5 MiB each over the
# first 5000 threads, then flat. Judged over a whole run of 10000 threads they are no leak.
BOUNDED = ("fill", "steps")


def _bounded(tmp_path, monkeypatch, switch, *args):
    r = run_cli("run", "-a", "faulty:dynamic", "-s", "pthread_key_dtor_free", "--no-controls",
                "--threads", "10000", "--env", f"TLSLEAK_FAULTY={switch}", *args, out=tmp_path)
    # 4: a bounded cache may end inconclusive, which the run's exit code says
    assert r.rc in (0, 1, 4), f"run failed with {r.rc}:\n{r.stdout}\n{r.stderr}"
    return cell(r.doc, "pthread_key_dtor_free", "faulty:dynamic")


@pytest.mark.parametrize("switch", BOUNDED)
def test_a_bounded_cache_judged_on_the_whole_run_is_no_leak(tmp_path, monkeypatch, switch):
    c = _bounded(tmp_path, monkeypatch, switch, "--no-sequential")
    assert c["verdict"] in (("ok",) if switch == "fill" else ("ok", "inconclusive")), c["reason"]
    cps = c["checkpoints"]
    assert cps[-1]["alloc_tcache"] - cps[0]["alloc_tcache"] > 4 << 20  # it did grow, as a cache
    assert cps[-1]["rss"] - cps[len(cps) // 2]["rss"] < 1 << 20  # and stopped


# Sequential judging holds `leak` back until 85% of the planned looks and until the last half
# agrees with the whole window (stats.LEAK_HORIZON, tail_agrees).
@pytest.mark.parametrize("switch", BOUNDED)
def test_a_bounded_cache_judged_sequentially_is_no_leak(tmp_path, monkeypatch, switch):
    c = _bounded(tmp_path, monkeypatch, switch)
    assert c["verdict"] != "leak", c["reason"]
