"""Linux and other POSIX systems: RSS and virtual size from psutil, thread count."""


def sample(proc):
    with proc.oneshot():
        mem = proc.memory_info()
        return {"rss": mem.rss, "vsize": mem.vms, "threads": proc.num_threads()}
