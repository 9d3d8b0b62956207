import os
import sys

from tlsleak import INTERRUPT_SIGNALS
from tlsleak.vocab import EXIT_INTERRUPTED


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


def _hold_interrupts(hold):
    """Keep INTERRUPT_SIGNALS pending (hold=True) or take them (False). They stay held while
    the modules load: an interrupt raised inside an import is not safe to raise (numpy's C
    extension turned one into an ImportError; importlib swallowed another and the run went on,
    each about once in 75 interrupts at start-up). The launcher holds them already where its
    `env` can; this covers the rest."""
    import signal
    if hasattr(signal, "pthread_sigmask"):
        how = signal.SIG_BLOCK if hold else signal.SIG_UNBLOCK
        signal.pthread_sigmask(how, INTERRUPT_SIGNALS)


def _leave(code):
    """Exit with the run's code, or 130 when an interrupt came in its last moments (the user's
    shell shows every interrupted run as 130). The signals are blocked first and the process
    leaves at once: Python's finalisation would put back their default action, and a late
    Ctrl-C would kill a finished, written run by SIGINT."""
    import signal
    if not hasattr(signal, "pthread_sigmask"):  # Windows
        sys.exit(code)
    late = set(INTERRUPT_SIGNALS)
    signal.pthread_sigmask(signal.SIG_BLOCK, late)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader gone, a stream closed: nothing left to say
            pass
    if signal.sigpending() & late:
        code = EXIT_INTERRUPTED
    os._exit(code)


if not _writable(2):
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    sys.stderr = open(2, "w", closefd=False)

try:  # Ctrl-C while the imports load (numpy, scipy): exit 130 once they have, no traceback
    _hold_interrupts(True)
    from tlsleak import streams  # noqa: E402
    streams.guard()  # a reader that goes away must not end the run before it is written
    from tlsleak.host import current as host  # noqa: E402
    host.keep_watch()  # Linux: from here on this is the harness, its parent the warden
    from tlsleak import interrupts  # noqa: E402
    interrupts.install()  # from now on they raise KeyboardInterrupt (interrupts.py)
    from tlsleak.cli import main  # noqa: E402
    _hold_interrupts(False)  # one sent meanwhile is raised here
except KeyboardInterrupt:
    print("tlsleak: interrupted", file=sys.stderr)
    _leave(EXIT_INTERRUPTED)

try:
    code = main()
except KeyboardInterrupt:  # one that came as main() returned: the run was over
    code = EXIT_INTERRUPTED
while True:
    try:
        _leave(code)
    except KeyboardInterrupt:  # came before the signals were blocked
        code = EXIT_INTERRUPTED
