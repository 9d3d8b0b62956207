"""`pip install .` (pyproject.toml, setup.py) gives a working tlsleak: the console script builds
its programs from the C sources shipped in the package, in a folder of the user's, run from
anywhere; and pytest finds the `tlsleak` fixture through the pytest11 entry point, without -p
(docs/DESIGN.md "Where people already run tests")."""
import json
import os
import subprocess
import sys

import pytest

from clihelp import ROOT

pytestmark = pytest.mark.integration

PLUGIN_TEST = '''
def test_a_program_that_frees_its_blocks(tlsleak):
    tlsleak.check([{flat!r}, "--threads", "3000"], allocators=["system"])


def test_a_program_that_leaks(tlsleak):
    tlsleak.check([{leak!r}, "--threads", "3000"], allocators=["system"])
'''


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh virtual environment with tlsleak installed offline (its dependencies from the
    interpreter's own site-packages), and an environment that knows nothing of the checkout."""
    base = tmp_path_factory.mktemp("install")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True)
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                          "--no-index", "--no-build-isolation", str(ROOT)],
                         capture_output=True, text=True)
    if pip.returncode != 0 and "No matching distribution" in pip.stderr:
        pytest.skip(f"an offline install needs the dependencies at hand: {pip.stderr[-300:]}")
    assert pip.returncode == 0, pip.stderr
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "TLSLEAK_SETUP", "TLSLEAK_BUILD_DIR", "TLSLEAK_COMMAND")}
    env.update(TLSLEAK_HOME=str(base / "home"), PATH=f"{venv / 'bin'}:{env['PATH']}")
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    return venv, env, elsewhere, base / "home"


def tlsleak(installed, *args, timeout=900):
    venv, env, elsewhere, _ = installed
    return subprocess.run([str(venv / "bin" / "tlsleak"), *map(str, args)], env=env,
                          cwd=elsewhere, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def test_the_installed_command_answers_and_lists_without_the_checkout(installed):
    venv = installed[0]
    r = tlsleak(installed, "--help")
    assert r.returncode == 0 and r.stdout.startswith("usage: tlsleak"), r.stderr
    r = tlsleak(installed, "list")
    assert r.returncode == 0, r.stderr
    assert "seed_thread_local" in r.stdout and "not configured yet" in r.stdout
    # The harness that answered is the installed one, with the sources in the package.
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import tlsleak.paths as p; print(p.SOURCE, p.CHECKOUT)"],
                           env=installed[1], cwd=installed[2], capture_output=True, text=True)
    source, checkout = where.stdout.split()
    assert source.startswith(str(venv)) and source.endswith("_project") and checkout == "None"


def test_the_installed_command_runs_the_controls_in_a_folder_of_its_own(installed):
    home = installed[3]
    r = tlsleak(installed, "run", "-s", "control_flat", "-a", "system")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    (latest,) = [line.split()[1] for line in r.stdout.splitlines()
                 if line.startswith("results: ")]
    assert latest.startswith(str(home / "results" / "runs"))
    doc = json.loads(open(latest).read())
    assert doc["controls"]["passed"] and {c["scenario"] for c in doc["cells"]} >= {
        "control_flat", "control_leak"}
    assert doc["harness"]["commit"] is None  # no checkout to name a commit of
    cache = (home / "build" / "CMakeCache.txt").read_text()
    assert f"CMAKE_HOME_DIRECTORY:INTERNAL={installed[0]}" in cache  # built from the package
    assert not list(installed[2].iterdir())  # nothing written where it was started


def test_pytest_finds_the_fixture_of_the_installed_package_without_p(installed):
    venv, env, elsewhere, home = installed
    bins = home / "build" / "bin" / "system"
    if not (bins / "control_flat").exists():  # built by the test above, unless run alone
        r = tlsleak(installed, "run", "-a", "system", "-s", "control_flat", "--no-controls",
                    "--threads", "500", "--out", home / "built")
        assert r.returncode == 0, r.stderr
    tests = elsewhere / "plugin"
    tests.mkdir()
    (tests / "test_threads.py").write_text(PLUGIN_TEST.format(
        flat=str(bins / "control_flat"), leak=str(bins / "control_leak")))
    r = subprocess.run([str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p",
                        "no:cacheprovider", str(tests)], env=env, cwd=tests,
                       capture_output=True, text=True, timeout=900)
    assert "1 failed, 1 passed" in r.stdout, r.stdout[-3000:] + r.stderr[-2000:]
    assert "test_a_program_that_leaks" in r.stdout and "control_leak-system: leak" in r.stdout
