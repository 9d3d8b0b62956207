"""`tlsleak explore` for real, on the faulty allocator (allocators/faulty/): each teardown bug
switched on with TLSLEAK_FAULTY (passed with --env) is found and minimised to the shape it
breaks; the standalone repro written for it builds with its printed command and leaks alone;
with no switch, and with a cache that fills and stops (fill), explore finds nothing; findings
are written as they come, and an interrupted explore keeps every one of them. Small budgets,
few threads, and only the dimensions each shape needs (--dims)."""
import dataclasses
import json
import os
import re
import signal
import subprocess
import time

import psutil
import pytest

from clihelp import ROOT, configurations, run_cli
from tlsleak import session, settings, target
from tlsleak.explore import search, space

pytestmark = [pytest.mark.integration, pytest.mark.allocators("faulty")]

CACHE = 16 * 1024  # a faulty thread cache (about 22 KiB) leaked per thread is more than this

# switch -> (dimensions varied, where its minimal leak differs from the simplest point)
SHAPES = {
    # teardown forgets the cache: any thread that malloc'd leaks it, the simplest point does
    "drop": ("action,prealloc", {}),
    # teardown does not mark the thread done: a destructor's malloc re-creates the cache
    "recreate": ("action,prealloc", {"action": "malloc_free"}),
    # free makes a cache nobody arms: a thread that only frees keeps it (jemalloc #2351)
    "skip_free_only": ("action,prealloc", {"prealloc": 0}),
}


def _available(config_id):
    if not any(c["id"] == config_id and c["available"] for c in configurations()):
        pytest.skip(f"{config_id} unavailable here")


def explore(tmp_path, *args):
    out = tmp_path / "explore"
    r = run_cli("explore", "--out", out, "--seed", "3", "--threads", "1000", *args,
                timeout=600)
    assert r.rc == 0, f"explore failed with {r.rc}:\n{r.stdout}\n{r.stderr}"
    return json.loads((out / "findings.json").read_text())


@pytest.fixture(scope="module", params=sorted(SHAPES))
def switched(request, tmp_path_factory):
    _available("faulty@1.0.0:static")
    dims, _ = SHAPES[request.param]
    doc = explore(tmp_path_factory.mktemp(request.param), "-a", "faulty:static", "--budget",
                  "120s", "--dims", dims, "--env", f"TLSLEAK_FAULTY={request.param}")
    return request.param, doc


def test_each_switch_is_found_and_minimised_to_its_shape(switched):
    switch, doc = switched
    assert doc["env"] == {"TLSLEAK_FAULTY": switch}
    shapes = [f["differs_from_simplest"] for f in doc["findings"]]
    assert SHAPES[switch][1] in shapes, shapes
    f = doc["findings"][shapes.index(SHAPES[switch][1])]
    assert [r["config"] for r in f["leaks"]] == ["faulty@1.0.0:static"]
    assert f["leaks"][0]["rate"] > CACHE  # a whole thread cache per thread


def test_the_standalone_repro_builds_with_its_command_and_leaks_alone(switched):
    _, doc = switched
    for f in doc["findings"]:
        with open(f["repro"]) as fh:
            text = fh.read()
        assert len(text.splitlines()) <= 65 and '#include "' not in text  # no project header
        subprocess.run(f["build"], shell=True, cwd=f["dir"], check=True, timeout=120)
        run = re.sub(r" 20000 1000$", " 4000 500", f["run"])  # fewer threads, same program
        out = subprocess.run(run, shell=True, cwd=f["dir"], capture_output=True, text=True,
                             check=True, timeout=120).stdout
        rows = [tuple(map(int, line.split())) for line in out.splitlines()
                if re.fullmatch(r"\d+ \d+", line)]
        (t0, rss0), (t1, rss1) = rows[1], rows[-1]
        assert (rss1 - rss0) / (t1 - t0) > CACHE / 2, rows


def test_without_a_switch_faulty_and_system_show_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("TLSLEAK_FAULTY", raising=False)
    doc = explore(tmp_path, "-a", "faulty", "-a", "system", "--budget", "90s",
                  "--dims", "action,prealloc")
    assert doc["points"], "nothing ran"
    assert doc["findings"] == []


def test_a_cache_that_fills_and_stops_is_never_a_finding(tmp_path):
    _available("faulty@1.0.0:static")
    # 5 MiB over the first 5000 threads, then flat: 10000 threads let the plateau show.
    doc = explore(tmp_path, "-a", "faulty:static", "--threads", "10000", "--budget", "60s",
                  "--dims", "keys", "--env", "TLSLEAK_FAULTY=fill")
    assert doc["points"], "nothing ran"
    assert all(r["verdict"] != "leak" for p in doc["points"] for r in p["runs"]), doc["points"]
    assert doc["findings"] == []


def _findings_so_far(path):
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):  # not there yet (each version is replaced whole)
        return None
    return doc if doc["findings"] else None


def test_an_interrupted_explore_keeps_every_finding_made_so_far(tmp_path):
    """The issue's case: an explore interrupted once it had found leaks left nothing. Here
    every point leaks (drop), and the whole space with a budget of an hour keeps the search
    going for far longer than it takes to find the first leak: the signal comes while it runs."""
    _available("faulty@1.0.0:static")
    out = tmp_path / "explore"
    argv = [str(ROOT / "tlsleak"), "explore", "--out", str(out), "-a", "faulty:static",
            "--threads", "1000", "--budget", "1h", "--env", "TLSLEAK_FAULTY=drop"]
    with open(tmp_path / "stderr", "w") as err:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, text=True,
                                env=dict(os.environ, TLSLEAK_SKIP_SETUP="1"))
        deadline = time.monotonic() + 600
        while (seen := _findings_so_far(out / "findings.json")) is None:
            assert proc.poll() is None, (tmp_path / "stderr").read_text()
            assert time.monotonic() < deadline, "no finding written while it ran"
            time.sleep(0.1)
        assert seen["state"] == "running"
        proc.send_signal(signal.SIGINT)
        stdout, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, (tmp_path / "stderr").read_text()
    doc = json.loads((out / "findings.json").read_text())
    assert doc["state"] == "interrupted" and doc["stopped"] == "interrupted"
    assert len(doc["points"]) >= len(seen["points"])
    kept = set()  # each leak seen before the signal: a finding, where found, or a duplicate
    for f in doc["findings"]:
        kept |= {f["key"], space.key(f["found_at"]), *map(space.key, f["duplicates"])}
    assert {f["key"] for f in seen["findings"]} <= kept
    for f in doc["findings"]:  # each finding whole: its repro, commands and issue draft
        for name in ("build.txt", "run.txt", "commands.txt", "issue.md"):
            assert (out / f["name"] / name).is_file(), (f["name"], name)
        assert os.path.isfile(f["repro"])
    assert "interrupted" in (out / "findings.md").read_text().splitlines()[0]
    assert f["name"] in stdout  # the table of what was found is printed too
    ours = str(ROOT / "build")  # not another checkout's on this machine
    assert [p for p in psutil.process_iter(["cmdline"])
            if "explore_point" in " ".join(argv := p.info["cmdline"] or [""])
            and argv[0].startswith(ours)] == []


def test_a_point_under_another_allocator_version_than_configured_is_an_error_not_a_leak():
    """explore judged its points with policy.decide alone, skipping the version and library
    checks every cell of a run gets: a program serving another version than the one asked for
    counted as that version's leak. Now its runs are cells of the same pipeline."""
    _available("faulty@1.0.0:static")
    build, _, confs = session.load()
    conf = next(c for c in confs if c.id == "faulty@1.0.0:static")
    tgt = target.Target.from_manifest(build.build([conf.target]))
    # the same programs, configured as a version they do not run
    wrong = dataclasses.replace(conf, id="faulty@9.9.9:static", version="9.9.9",
                                label="faulty@9.9.9:static")
    explorer = search.Explorer([conf, wrong], settings.make(threads=1000), tgt,
                               env={"TLSLEAK_FAULTY": "drop"})
    point = explorer.run(space.simplest(), "design")
    right, other = point.runs
    assert right.verdict == "leak", right
    assert other.verdict == "error" and "version mismatch" in other.reason, other
    assert point.signature.configs == (conf.id,)
