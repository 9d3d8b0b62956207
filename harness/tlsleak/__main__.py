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


def _take_interrupts():
    """SIGINT and SIGTERM raise KeyboardInterrupt from now on (interrupts.py); the launcher
    kept them blocked (pending) while the interpreter started, so one sent then is taken
    here."""
    import signal

    from tlsleak import interrupts
    interrupts.install()
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


def _leave(code):
    """Exit with the run's code, or 130 when an interrupt came in its last moments (the user's
    shell shows every interrupted run as 130). The signals are blocked first and the process
    leaves at once: Python's finalisation would put back their default action, and a late
    Ctrl-C would kill a finished, written run by SIGINT."""
    import signal
    if not hasattr(signal, "pthread_sigmask"):  # Windows
        sys.exit(code)
    late = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, late)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader gone, a stream closed: nothing left to say
            pass
    if signal.sigpending() & late:
        code = 130
    os._exit(code)


if not _writable(2):
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    sys.stderr = open(2, "w", closefd=False)

try:  # Ctrl-C while the imports load (numpy, scipy): exit 130, no traceback
    _take_interrupts()
    from tlsleak.cli import main  # noqa: E402
except KeyboardInterrupt:
    print("tlsleak: interrupted", file=sys.stderr)
    _leave(130)

try:
    code = main()
except KeyboardInterrupt:  # one that came as main() returned: the run was over
    code = 130
while True:
    try:
        _leave(code)
    except KeyboardInterrupt:  # came before the signals were blocked
        code = 130
