"""Locks and leases on the entries of the build cache (docs/DESIGN.md "Allocators built from
source").

ENTRY/.lock is held exclusively by whoever builds or removes the entry. ENTRY/.lease is held
shared by every run that uses the entry, from the moment it finds or builds it until the run's
process ends (the kernel drops the lock with the process, however it ends): `cache prune` takes
it exclusively, without waiting, and keeps the entry when it cannot. Both are fcntl.flock locks,
taken on a file whose inode is checked after locking: a file removed with its entry while we
waited is not a lock on anything.
"""
import fcntl
import os
import sys
from contextlib import contextmanager
from pathlib import Path

_LEASES = {}  # entry folder -> fd of its .lease, held shared by this process


def _open_locked(path, how):
    """An fd of `path` locked `how` (fcntl.LOCK_*), or None when a non-blocking lock is taken
    by another. Retries when the file was replaced while we waited."""
    while True:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, how)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # the entry was removed under us: lock the new file instead


@contextmanager
def building(entry):
    """Hold ENTRY/.lock exclusively (one build of an entry at a time, across processes)."""
    path = Path(entry) / ".lock"
    fd = _open_locked(path, fcntl.LOCK_EX | fcntl.LOCK_NB)
    if fd is None:
        print(f"tlsleak: waiting for another build of {entry}", file=sys.stderr)
        fd = _open_locked(path, fcntl.LOCK_EX)
    try:
        yield
    finally:
        os.close(fd)


def take(entry):
    """Lease `entry` for the rest of this process (idempotent). Call it while holding the
    entry's .lock, so that no prune is between its checks and its removal."""
    entry = str(Path(entry))
    if entry not in _LEASES:
        _LEASES[entry] = _open_locked(Path(entry) / ".lease", fcntl.LOCK_SH)


def held():
    """The entries this process leases."""
    return sorted(_LEASES)


def release(entry=None):
    """Give up this process's lease on `entry` (every lease when None): for a process that
    outlives its runs (a test session)."""
    for key in [str(Path(entry))] if entry is not None else list(_LEASES):
        fd = _LEASES.pop(key, None)
        if fd is not None:
            os.close(fd)


@contextmanager
def removable(entry):
    """Yield True when `entry` may be removed now: nobody builds it and no run leases it (both
    locks then stay held until the block ends), else False."""
    lock = _open_locked(Path(entry) / ".lock", fcntl.LOCK_EX | fcntl.LOCK_NB)
    lease = None if lock is None else _open_locked(Path(entry) / ".lease",
                                                   fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        yield lease is not None
    finally:
        for fd in (lease, lock):
            if fd is not None:
                os.close(fd)
