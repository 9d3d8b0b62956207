"""Finding the processes a run started or left behind, and waiting for them, for the tests
and for ci/soak.py."""
import errno
import os
import signal
import subprocess
import time
from contextlib import contextmanager

import psutil


def working_in(folder):
    """Pids of the processes whose working directory is in folder (make and the compilers of
    a build)."""
    found = []
    for p in psutil.process_iter():
        try:
            if p.cwd().startswith(str(folder)):
                found.append(p.pid)
        except psutil.Error:
            pass
    return found


def harness_of(launched):
    """The harness, for a psutil.Process of the tlsleak command started: on Linux the process
    started splits into a warden (the pid the caller knows) and the harness, its child;
    elsewhere, or before the split, it is the process started."""
    try:
        kids = [p for p in launched.children() if "tlsleak" in p.cmdline()]
    except psutil.Error:
        kids = []
    return kids[0] if kids else launched


def wait_until(condition, what, limit=120.0):
    """Poll condition() until it holds; fail saying `what` never happened. For a test that must
    act once something is under way (a cell running, a compiler started), instead of a guessed
    delay: how long it takes does not matter, only that it happens."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {limit:.0f} s")
        time.sleep(0.02)


def release(fifo, limit=120.0):
    """Let a program waiting on `fifo` (tests/programs/hostile.py gate) go on: open it for
    writing once it has a reader, and close it."""
    opened = []

    def reader_there():
        try:
            opened.append(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            return True
        except OSError as e:
            if e.errno != errno.ENXIO:  # ENXIO: nobody has it open for reading yet
                raise
            return False
    wait_until(reader_there, f"a reader of {fifo}", limit)
    os.close(opened[0])


def is_tlsleak(argv):
    """Whether a command line is tlsleak's own (the launcher script, `env` on its way to the
    harness, the harness: `-m tlsleak`), whose arguments name the run's programs too; the
    user's program after `--exec --` does not count, nor a folder named tlsleak."""
    own = argv[:argv.index("--")] if "--" in argv else argv
    return any(a == "tlsleak" or (a.endswith("/tlsleak") and os.path.isfile(a)) for a in own)


def matching(*words):
    """Pids of the processes whose command line holds every word (a run's programs), tlsleak's
    own processes and this one left out."""
    found = []
    for p in psutil.process_iter(["cmdline"]):
        argv = p.info["cmdline"] or []
        if all(w in " ".join(argv) for w in words) and p.pid != os.getpid() \
                and not is_tlsleak(argv):
            found.append(p.pid)
    return found


def running(program):
    """Pids of the processes started as `program` (a path): this checkout's, not another's that
    has the same name. By the command line, not /proc/PID/exe, which says "(deleted)" once a
    build has replaced the file."""
    return [p.pid for p in psutil.process_iter(["cmdline"])
            if (p.info["cmdline"] or [""])[0] == str(program)]


@contextmanager
def started(argv, **popen):
    """subprocess.Popen in a process group of its own, and the whole group SIGKILLed when the
    test leaves it still running (it failed): a run held open for the test must not outlive
    it. A SIGKILLed tlsleak takes its cells with it (README, Reliability)."""
    proc = subprocess.Popen(argv, start_new_session=True, **popen)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
