"""Windows: the working set is the RSS; the private bytes are the commit charge."""


def sample(proc):
    with proc.oneshot():
        mem = proc.memory_info()
        return {"rss": mem.wset, "commit": mem.private, "vsize": mem.vms,
                "threads": proc.num_threads()}
