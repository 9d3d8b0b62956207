"""Set-up when a command first needs it, not before: `--help`, `list` and a usage error answer
at once on a fresh clone, and what a build needs (compilers, CMake, the allocators' packages,
Debian's source packages) is installed by ci/setup.sh just before the first build.

The ./tlsleak launcher names the set-up script in TLSLEAK_SETUP (unless TLSLEAK_SKIP_SETUP=1);
an installed package, or a harness started some other way, has none and sets nothing up."""
import os
import subprocess
import sys

from tlsleak import InfraError, interrupts

_done = set()  # what this process has set up already


def _script():
    return os.environ.get("TLSLEAK_SETUP") or None


def _setup(*args):
    """ci/setup.sh ARGS, its one-line messages on our stderr; InfraError when it fails."""
    script = _script()
    if script is None or args in _done:
        return
    sys.stderr.flush()
    with interrupts.held():  # started whole, or not at all
        proc = subprocess.Popen([script, *args], stdin=subprocess.DEVNULL)
    try:
        rc = proc.wait()
    except BaseException:  # an interrupt: set-up keeps its own state sound (its lock, scratch)
        proc.terminate()
        proc.wait()
        raise
    if rc != 0:
        raise InfraError(f"set-up failed: {script} {' '.join(args)} exited {rc}")
    _done.add(args)


def ensure(profile=None):
    """What a build needs (ci/setup.sh PROFILE: `run`, or a platform's own, e.g. `wine`)."""
    _setup(profile or "run")


def fetch_source(package):
    """Debian's source package PACKAGE into .cache/src/, when a configuration built from it is
    planned and set-up has not fetched it yet. Nothing happens without a set-up script: the
    caller then says what is missing."""
    _setup("source", package)
