"""Windows hosts: the working set is the RSS, the private bytes the commit charge; a child's
tree is killed through psutil; files are locked with msvcrt."""
import subprocess

import psutil


def popen_kwargs():
    return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP, "close_fds": True}


def kill_tree(proc):
    try:
        parent = psutil.Process(proc.pid)
        for p in parent.children(recursive=True) + [parent]:
            p.kill()
    except psutil.Error:
        pass


def keep_watch():
    pass  # a job object closed with the harness would do it; the tree kill covers interrupts


def become_subreaper():
    return False


def reap_strays(keep=()):
    return []


def kill_group_and_wait(proc, timeout=10.0):
    kill_tree(proc)
    proc.wait()


def sample(ps):
    with ps.oneshot():
        mem = ps.memory_info()
        return {"rss": mem.wset, "commit": mem.private, "vsize": mem.vms,
                "threads": ps.num_threads()}


def count_maps(pid):
    return None  # no cheap region count from outside; the checkpoints carry one


def map_count_limit():
    return None


def lock(fh):
    import msvcrt
    msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)


def unlock(fh):
    import msvcrt
    msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)


def describe_exit(returncode):
    """crash for an NTSTATUS exception code (e.g. 0xC0000005 access violation), else error."""
    if returncode >= 0xC0000000 or returncode < 0:
        return "crash", f"exception 0x{returncode & 0xFFFFFFFF:08X}"
    return "error", f"exited with code {returncode}"
