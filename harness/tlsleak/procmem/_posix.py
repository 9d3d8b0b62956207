"""Linux and other POSIX systems: RSS and virtual size from psutil, thread count."""


def sample(proc):
    with proc.oneshot():
        mem = proc.memory_info()
        return {"rss": mem.rss, "vsize": mem.vms, "threads": proc.num_threads()}


def count_maps(pid):
    """Number of memory mappings (Linux /proc); None where the OS has no such file."""
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
