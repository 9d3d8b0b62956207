"""The explore program and the standalone repros, for real: explore_point (repro/explore/,
docs/DESIGN.md "The explore program") runs every point of a pairwise design, and reproduces the faulty
allocator's teardown bugs in their own shapes only; every standalone file the emitter writes
(harness/tlsleak/explore/emit.py) builds with its printed command under -Werror, runs, and,
for a leaking shape under faulty, leaks when run alone."""
import os
import re
import subprocess

import pytest

from tlsleak.build import Build
from tlsleak.explore import design, emit, space

pytestmark = pytest.mark.integration

CACHE = 16 * 1024  # a faulty thread cache (about 22 KiB) leaked per thread is more than this


@pytest.fixture(scope="module")
def configs():
    """Available configurations by id, with explore_point and libfaulty.so built."""
    b = Build()
    manifest = b.configure()
    assert manifest.get("explore") == {"program": "explore_point",
                                       "source": "repro/explore/explore_point.cpp"}
    wanted = {"system", "faulty@1.0.0:static", "faulty@1.0.0:dynamic", "faulty@1.0.0:override"}
    confs = {c["id"]: c for c in manifest["configs"] if c["available"] and c["id"] in wanted}
    b.build({c["target"] for c in confs.values()}, jobs=2)
    return confs


def run_point(config, point, *, threads=200, env=None):
    argv = [os.path.join(config["bin_dir"], "explore_point"),
            *space.argv(point, threads=threads, interval=max(1, threads // 4))]
    full_env = {k: v for k, v in os.environ.items() if k not in ("TLSLEAK_FAULTY", "LD_PRELOAD")}
    full_env.update(env or {})
    if config.get("preload"):
        full_env["LD_PRELOAD"] = config["preload"]
    return subprocess.run(argv, capture_output=True, text=True, env=full_env, timeout=120)


def rss_per_thread(lines):
    """(last - first) RSS over threads, from "done rss" pairs."""
    (d0, r0), (d1, r1) = lines[0], lines[-1]
    return (r1 - r0) / (d1 - d0)


def cp_pairs(stdout):
    return [(int(m.group(1)), int(m.group(2)))
            for m in re.finditer(r"^TLSLEAK/1 cp done=(\d+) \S+ rss=(\d+)", stdout, re.M)]


def test_explore_point_runs_every_point_of_a_pairwise_design(configs):
    for point in design.pairwise(1):
        r = run_point(configs["system"], point)
        assert r.returncode == 0, (space.key(point), r.stderr)
        p = space.normalise(point)
        line = re.search(r"^TLSLEAK/1 point (.*)$", r.stdout, re.M).group(1)
        for name in ("tls", "round", "action", "prealloc", "early_key", "keys", "end"):
            assert "%s=%s" % (name, p[name]) in line.split(), (name, line)
        assert "TLSLEAK/1 end done=200 status=ok" in r.stdout


def test_explore_point_refuses_what_it_cannot_run(configs):
    exe = os.path.join(configs["system"]["bin_dir"], "explore_point")
    for args, why in ((["--round", "5"], "--round"), (["--tls", "cxx", "--early-key", "1"],
                      "--early-key"), (["--action", "frees"], "--action"), (["--keys", "9"],
                                                                           "--keys")):
        r = subprocess.run([exe, *args], capture_output=True, text=True, timeout=30)
        assert r.returncode == 2 and why in r.stderr and r.stderr.count("\n") == 1, (args, r)


# faulty switch -> (a point of its shape that must leak a cache per thread, a point that must not)
SHAPES = {
    "recreate": ({"round": 4, "action": "malloc_free"}, {"round": 4, "action": "free_many",
                                                         "prealloc": 0}),
    "skip_free_only": ({"round": 4, "action": "free_many", "prealloc": 0},
                       {"round": 4, "action": "malloc_free"}),
}


@pytest.mark.parametrize("switch", list(SHAPES))
@pytest.mark.parametrize("config", ["faulty@1.0.0:dynamic", "faulty@1.0.0:override"])
def test_explore_point_reproduces_each_faulty_bug_in_its_shape_only(configs, switch, config):
    if config not in configs:
        pytest.skip(f"{config} unavailable here")
    leaky, spared = (space.complete(p) for p in SHAPES[switch])
    env = {"TLSLEAK_FAULTY": switch}
    grew = rss_per_thread(cp_pairs(run_point(configs[config], leaky, threads=2000, env=env).stdout))
    flat = rss_per_thread(cp_pairs(run_point(configs[config], spared, threads=2000, env=env).stdout))
    assert grew > CACHE, (switch, grew)
    assert flat < 512, (switch, flat)


def build_and_run(tmp_path, point, config, *, stem, threads=200, every=50, env=None):
    path, build, run = emit.write(point, tmp_path, config, stem=stem, env=env)
    text = open(path).read()
    assert '#include "' not in text  # no project header: libc and pthread only
    b = subprocess.run(build + " -Werror", shell=True, cwd=tmp_path, capture_output=True,
                       text=True, timeout=120)
    assert b.returncode == 0, (space.key(point), build, b.stderr)
    run = run.replace(" 20000 1000", " %d %d" % (threads, every))
    r = subprocess.run(run, shell=True, cwd=tmp_path, capture_output=True, text=True,
                       timeout=300, env={k: v for k, v in os.environ.items()
                                         if k not in ("TLSLEAK_FAULTY", "LD_PRELOAD")})
    assert r.returncode == 0, (space.key(point), run, r.stderr)
    pairs = [tuple(map(int, line.split())) for line in r.stdout.splitlines()]
    assert pairs[0][0] == 0 and pairs[-1][0] == threads, r.stdout
    return text, pairs


def test_every_emitted_repro_of_a_design_builds_and_runs(tmp_path, configs):
    lengths = []
    for i, point in enumerate(design.pairwise(1)):
        text, _ = build_and_run(tmp_path, point, configs["system"], stem="p%d" % i)
        lengths.append(len(text.splitlines()))
    assert max(lengths) <= 70 and sorted(lengths)[len(lengths) // 2] <= 64, lengths


@pytest.mark.parametrize("config", ["faulty@1.0.0:static", "faulty@1.0.0:dynamic",
                                    "faulty@1.0.0:override"])
def test_an_emitted_repro_leaks_alone_where_the_bug_is_and_only_there(tmp_path, configs, config):
    if config not in configs:
        pytest.skip(f"{config} unavailable here")
    point = space.complete({"round": 4, "action": "malloc_free"})
    _, bad = build_and_run(tmp_path, point, configs[config], stem="bad", threads=2000, every=500,
                           env={"TLSLEAK_FAULTY": "recreate"})
    _, good = build_and_run(tmp_path, point, configs[config], stem="good", threads=2000,
                            every=500)
    assert rss_per_thread(bad) > CACHE, bad
    assert rss_per_thread(good) < 512, good


@pytest.mark.parametrize("tls", ["pthread", "c11", "tlsvar"])
def test_early_keys_run_their_destructors_before_the_allocator_s(configs, tls):
    # faulty creates its key at its first malloc and glibc runs key destructors in key order:
    # a destructor that allocates after faulty's teardown re-creates a cache under `recreate`;
    # keys made before any allocator (.preinit_array) run first and leave nothing behind.
    conf = configs["faulty@1.0.0:dynamic"]
    env = {"TLSLEAK_FAULTY": "recreate"}
    rates = {}
    for early in (0, 1):
        point = space.complete({"tls": tls, "action": "malloc_free", "early_key": early})
        rates[early] = rss_per_thread(cp_pairs(run_point(conf, point, threads=2000,
                                                         env=env).stdout))
    assert rates[0] > CACHE and rates[1] < 512, rates
