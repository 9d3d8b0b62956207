"""The machine the harness runs on: process control, one private module per host OS (as
pyperf's _linux_memory/_win_memory), chosen here, once.

Every module offers the same small interface:
  popen_kwargs()             keyword arguments that start a child in its own session or group
  kill_tree(proc)            kill the child and everything it started (its group)
  sample(ps)                 {"rss": bytes, "threads": n, ...} of a psutil.Process
  count_maps(pid)            number of memory mappings, or None
  map_count_limit()          the OS limit on mappings, or None
  lock(fh), unlock(fh)       an exclusive lock on an open file
  keep_watch()               at start-up: leave a warden that outlives the harness and kills
                             what it left (Linux; elsewhere nothing)
  become_subreaper()         make orphaned descendants come back to the harness (where the OS can)
  reap_strays(keep)          kill and reap the harness's children not in keep (escaped ones)
  kill_group_and_wait(proc)  kill a child's group and wait until it is empty (a build)
  describe_exit(returncode)  ("crash" | "error", one line) for a process that did not exit 0
What the *target* is (program suffix, preload variable) is target.py's business, not this one's.
"""
import sys

if sys.platform == "win32":
    from tlsleak.host import _windows as current
elif sys.platform.startswith("linux"):
    from tlsleak.host import _linux as current
else:
    from tlsleak.host import _posix as current

__all__ = ["current"]
