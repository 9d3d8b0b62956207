import os
import sys


def _writable(fd):
    """Whether fd is open for writing. A shell started with 2>&- may hand us its script file,
    opened read-only, as fd 2: every message would then fail and the run end as a false 1."""
    try:
        import fcntl
    except ImportError:  # Windows: a closed stderr shows up as sys.stderr None
        return sys.stderr is not None
    try:
        return (fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE) in (os.O_WRONLY, os.O_RDWR)
    except OSError:
        return False


if not _writable(2):
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    sys.stderr = open(2, "w", closefd=False)

from tlsleak.cli import main  # noqa: E402

sys.exit(main())
