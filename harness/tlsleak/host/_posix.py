"""POSIX hosts: process groups, fcntl locks, psutil's RSS and virtual size."""
import fcntl
import os
import signal
import time


def popen_kwargs():
    return {"start_new_session": True, "close_fds": True}


def kill_tree(proc):
    """SIGKILL the child's whole process group (it was started in a session of its own)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def keep_watch():
    pass  # no subreaper (macOS, BSD): what a cell starts outside its group may outlive a kill -9


def become_subreaper():
    return False  # no portable subreaper: only the group kill


def reap_strays(keep=()):
    return []


def kill_group_and_wait(proc, timeout=10.0, reap=lambda: None):
    """SIGKILL the child's group, wait for the child, then until the group is empty."""
    kill_tree(proc)
    proc.wait()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reap()
        try:
            os.killpg(proc.pid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.05)


def sample(ps):
    with ps.oneshot():
        mem = ps.memory_info()
        return {"rss": mem.rss, "vsize": mem.vms, "threads": ps.num_threads()}


def count_maps(pid):
    return None  # no cheap count from outside; the checkpoints carry one where the OS gives it


def map_count_limit():
    return None


def lock(fh):
    fcntl.flock(fh, fcntl.LOCK_EX)


def unlock(fh):
    fcntl.flock(fh, fcntl.LOCK_UN)


def describe_exit(returncode):
    """crash for a death by signal, error for a failing exit."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return "crash", f"killed by {name}"
    return "error", f"exited with code {returncode}"
