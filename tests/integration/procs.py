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
