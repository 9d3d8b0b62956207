"""Windows: the working set is the RSS; the private bytes are the commit charge."""


def sample(proc):
    with proc.oneshot():
        mem = proc.memory_info()
        return {"rss": mem.wset, "commit": mem.private, "vsize": mem.vms,
                "threads": proc.num_threads()}


def count_maps(pid):
    return None  # no cheap region count from outside; the checkpoints carry one


def map_count_limit():
    return None
