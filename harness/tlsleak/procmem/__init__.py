"""Process memory seen from outside, one module per OS (as pyperf's _linux_memory/_win_memory).

sample(proc) -> {"rss": bytes, "threads": n, ...}; keys an OS lacks are left out. Windows adds
"commit" (the private commit charge), which is what mimalloc #944 saw growing."""
import sys

if sys.platform == "win32":
    from tlsleak.procmem._windows import count_maps, map_count_limit, sample
else:
    from tlsleak.procmem._posix import count_maps, map_count_limit, sample

__all__ = ["sample", "count_maps", "map_count_limit"]
