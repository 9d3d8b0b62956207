"""Where a result came from: host, libc, harness commit, allocator package."""
import functools
import os
import platform
import subprocess
import sys

import psutil

from tlsleak import __version__, paths


def _read(path):
    try:
        with open(path) as fh:
            return fh.read().strip()
    except OSError:
        return None


def _git(*args):
    if paths.CHECKOUT is None:  # installed: no commit of ours to name (a folder around the
        return None             # package may be someone else's git work tree)
    try:
        out = subprocess.run(["git", "-C", str(paths.CHECKOUT), *args], capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def harness():
    commit = _git("rev-parse", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no")) if commit else False
    return {"version": __version__, "commit": commit, "dirty": dirty}


def host():
    libc = " ".join(platform.libc_ver()).strip() or None
    thp = _read("/sys/kernel/mm/transparent_hugepage/enabled")
    if thp and "[" in thp:  # "always [madvise] never" -> "madvise"
        thp = thp[thp.index("[") + 1:thp.index("]")]
    os_release = platform.freedesktop_os_release() if hasattr(platform, "freedesktop_os_release") \
        and os.path.exists("/etc/os-release") else {}
    return {
        "os": os_release.get("PRETTY_NAME", platform.system()),
        "kernel": platform.release(),
        "machine": platform.machine(),
        "libc": libc,
        "cpus": os.cpu_count(),
        "mem_total": psutil.virtual_memory().total,
        "thp": thp,
        "python": sys.version.split()[0],
    }


@functools.lru_cache(maxsize=None)
def package_of(path):
    """The Debian package (name and version) that installed a file, or None."""
    if not path or not os.path.exists("/var/lib/dpkg"):
        return None
    try:
        out = subprocess.run(["dpkg-query", "-S", path], capture_output=True, text=True,
                             timeout=10)
        if out.returncode != 0:
            real = os.path.realpath(path)
            out = subprocess.run(["dpkg-query", "-S", real], capture_output=True, text=True,
                                 timeout=10)
        if out.returncode != 0:
            return None
        pkg = out.stdout.split(":")[0].strip()
        ver = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True,
                             text=True, timeout=10).stdout.strip()
        return f"{pkg} {ver}"
    except (OSError, subprocess.TimeoutExpired):
        return None
