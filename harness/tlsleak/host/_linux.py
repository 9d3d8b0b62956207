"""Linux hosts: the POSIX parts, plus /proc for the mapping count and its limit, and prctl so
nothing the harness starts outlives it: each child dies with the harness (PR_SET_PDEATHSIG,
even when the harness is SIGKILLed), and the harness is a subreaper (PR_SET_CHILD_SUBREAPER) so
a grandchild that escapes its group with setsid() is re-parented to it and swept at cell end;
and a warden outlives the harness to kill what is left when the harness itself is killed."""
import ctypes
import os
import signal

import psutil

from tlsleak.host import _posix, _warden
from tlsleak.host._posix import (describe_exit, kill_tree, lock, sample, unlock)  # noqa: F401

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36

try:  # resolved now: the child, between fork and exec, only calls it
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):
    _prctl = None


def _dies_with(parent, sig):
    """In a child just forked: get `sig` when `parent` dies. False when it died already,
    before the request took effect."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
    return os.getppid() == parent


def _die_with_parent(parent):
    def preexec():
        os.setsid()
        if not _dies_with(parent, signal.SIGKILL):
            os._exit(1)
    return preexec


def popen_kwargs():
    """A session of its own (the group kill), dying with the harness (PDEATHSIG)."""
    return {"preexec_fn": _die_with_parent(os.getpid()), "close_fds": True}


def keep_watch():
    """Split into the warden and the harness (_warden.py); returns in the harness."""
    _warden.split(become_subreaper, _dies_with)


def become_subreaper():
    """Orphaned descendants come back to the harness instead of init. True when it worked."""
    return _prctl is not None and _prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def reap_strays(keep=()):
    """Kill and reap every child of the harness (and its descendants) whose pid is not in
    `keep`: descendants that escaped a cell's group and came back to the subreaper. Returns
    the pids killed."""
    killed = []
    try:
        children = psutil.Process().children()
    except psutil.Error:
        return killed
    for child in children:
        if child.pid in keep:
            continue
        try:
            tree = child.children(recursive=True) + [child]
        except psutil.Error:
            tree = [child]
        for p in tree:
            try:
                p.kill()
                killed.append(p.pid)
            except psutil.Error:
                pass
        try:
            os.waitpid(child.pid, 0)
        except ChildProcessError:
            pass
    return killed


def kill_group_and_wait(proc, timeout=10.0):
    """Kill the child's process group and wait until no member is left (a build's make and
    compilers), reaping the ones that came back to us."""
    _posix.kill_group_and_wait(proc, timeout, reap=lambda: reap_strays(keep=()))


def count_maps(pid):
    """Number of memory mappings, from /proc/PID/maps."""
    try:
        with open(f"/proc/{pid}/maps", "rb") as fh:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 16), b""))
    except OSError:
        return None


def map_count_limit():
    """vm.max_map_count: past it mmap fails, long before RSS looks bad."""
    try:
        with open("/proc/sys/vm/max_map_count") as fh:
            return int(fh.read())
    except (OSError, ValueError):
        return None


__all__ = ["become_subreaper", "count_maps", "describe_exit", "keep_watch",
           "kill_group_and_wait", "kill_tree", "lock", "map_count_limit", "popen_kwargs",
           "reap_strays", "sample", "unlock"]
