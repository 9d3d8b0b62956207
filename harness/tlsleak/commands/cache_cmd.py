"""tlsleak cache list | prune: the allocator builds in .cache/builds (versions/cache.py).
Prune leaves the builds a running tlsleak holds a lease on (in use), and says so."""
import json
import time

from tlsleak import UsageError, paths
from tlsleak.versions import cache

HELP = "list or prune the allocator builds in .cache/builds"
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def duration(text):
    """7d, 12h, 30m, 90s, 2w -> seconds."""
    num, unit = text[:-1], text[-1:]
    if unit not in UNITS or not num.replace(".", "", 1).isdigit():
        raise UsageError(f"bad duration '{text}' (like 7d, 12h, 30m)")
    return float(num) * UNITS[unit]


def add_parser(sub):
    p = sub.add_parser("cache", help=HELP)
    p.add_argument("action", choices=("list", "prune"),
                   help="list: one line per build (allocator, label, state, size, age, source); "
                        "prune: remove builds")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--all", action="store_true", help="prune every build")
    how.add_argument("--older-than", metavar="AGE",
                     help="prune builds not used for AGE (e.g. 7d, 12h)")
    how.add_argument("--failed", action="store_true", help="prune the failed builds only")
    return p


def _size(path):
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def _prune(args):
    if not (args.all or args.older_than or args.failed):
        raise UsageError("cache prune needs --all, --older-than AGE or --failed")
    if args.older_than:
        removed, in_use = cache.prune(paths.state(), unused_since=time.time() - duration(args.older_than))
    else:
        removed, in_use = cache.prune(paths.state(), everything=args.all, failed=args.failed)
    for r in removed:
        print(f"removed {r}")
    for r in in_use:
        print(f"kept {r}: in use by a run")
    print(f"{len(removed)} build(s) removed" + (f", {len(in_use)} kept in use by a run"
                                               if in_use else ""))
    return 0


def main(args):
    if args.action == "prune":
        return _prune(args)
    now = time.time()
    for entry in cache.entries(paths.state()):
        built = cache.lookup(entry)
        if built is not None:
            state, label, src = "built", built.label, built.source
        elif (entry / "failed.json").exists():
            data = json.loads((entry / "failed.json").read_text())
            state, label, src = "failed", "-", data.get("error", "")[:60]
        else:
            state, label, src = "partial", "-", ""
        age = (now - entry.stat().st_mtime) / 86400
        print(f"{entry.parent.name:10} {label:24} {state:7} {_size(entry) / 1e6:7.1f} MB "
              f"{age:5.1f} d  {src}")
    return 0
