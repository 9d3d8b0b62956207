"""Linux hosts: the POSIX parts, plus /proc for the mapping count and its limit."""
from tlsleak.host._posix import (describe_exit, kill_tree, lock, popen_kwargs, sample,  # noqa: F401
                                 unlock)


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

__all__ = ["count_maps", "describe_exit", "kill_tree", "lock", "map_count_limit", "popen_kwargs",
           "sample", "unlock"]
