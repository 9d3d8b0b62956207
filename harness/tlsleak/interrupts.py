"""Interrupts (SIGINT, SIGTERM) at any moment end a run with exit 130 and whatever finished.

install() makes SIGTERM behave as Ctrl-C for the whole run (start-up, build, run). While
`deferred()` is active (clean-up after a first interrupt, concluding and writing the results),
a further interrupt is only noted: the clean-up and the writing finish, then the run ends as
interrupted."""
import signal
from contextlib import contextmanager

SIGNALS = tuple(s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None))
                if s is not None)
_state = {"noted": False}


def _raise(signum, frame):
    raise KeyboardInterrupt


def _note(signum, frame):
    _state["noted"] = True


def install():
    """SIGTERM and SIGINT raise KeyboardInterrupt (a harness's default SIGTERM would exit 143
    and leave its children)."""
    for s in SIGNALS:
        try:
            signal.signal(s, _raise)
        except ValueError:  # not the main thread (tests calling in): leave as is
            pass


@contextmanager
def deferred():
    """Interrupts are noted, not raised, inside; noted() says whether one came."""
    previous = {}
    for s in SIGNALS:
        try:
            previous[s] = signal.signal(s, _note)
        except ValueError:
            pass
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def noted():
    return _state["noted"]
