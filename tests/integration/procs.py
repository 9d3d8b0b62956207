"""Finding the processes a run left behind, for the tests and for ci/soak.py."""
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
