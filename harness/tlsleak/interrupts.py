"""Interrupts (SIGINT, SIGTERM, SIGHUP) at any moment end a run with exit 130 and whatever
finished.

install() makes SIGTERM and SIGHUP behave as Ctrl-C for the whole run (start-up, build, run). While
`deferred()` is active (clean-up after a first interrupt, concluding and writing the results),
a further interrupt is only noted: the clean-up and the writing finish, then the run ends as
interrupted.

While the cells run, the main thread waits for them with interrupts noted, not raised
(as_completed): a KeyboardInterrupt raised inside concurrent.futures' own lock handling could
leave a future's lock held and the pool deadlocked at shutdown. It raises the interrupt itself
between waits, and waits at most TICK_S at a time: the kernel may hand a process's signal to
any of its threads, and a main thread blocked without a timeout would take it only when the
cell it meant to stop had run to its end (seen about once in 25 runs with a hung cell)."""
import concurrent.futures
import importlib
import signal
import sys
import threading
from contextlib import contextmanager

from tlsleak import INTERRUPT_SIGNALS

TICK_S = 0.2  # how soon the main thread takes an interrupt another thread received
# The interrupt signals the harness takes. nohup: a SIGHUP ignored when the harness started
# stays ignored. (SIGINT is taken even then: a script's background job inherits it ignored,
# and `kill -INT` must still stop it.)
TAKEN = tuple(s for s in INTERRUPT_SIGNALS
              if s == signal.SIGINT or signal.getsignal(s) != signal.SIG_IGN)
_state = {"noted": False}


def _raise(signum, frame):
    """An interrupt raises KeyboardInterrupt, unless one was already noted (while the cells
    ran, or during clean-up and writing): then the run is already ending as interrupted, and
    a second Ctrl-C must not break into that (it once killed a finished run by SIGINT)."""
    if _state["noted"]:
        return
    raise KeyboardInterrupt


def _note(signum, frame):
    _state["noted"] = True


def install():
    """SIGINT, SIGTERM and SIGHUP raise KeyboardInterrupt (a harness's default SIGTERM would
    exit 143 and leave its children; its default SIGHUP lost a run when an SSH session
    dropped)."""
    for s in TAKEN:
        try:
            signal.signal(s, _raise)
        except ValueError:  # not the main thread (tests calling in): leave as is
            pass


@contextmanager
def deferred():
    """Interrupts are noted, not raised, inside; noted() says whether one came."""
    previous = {}
    for s in TAKEN:
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


@contextmanager
def held():
    """Interrupts that come inside are noted, and raised as KeyboardInterrupt once it is done,
    where the caller can kill what it started. For the main thread's steps that a
    KeyboardInterrupt must not break into:
    - a subprocess.Popen with a preexec_fn: Python then runs its at-fork callbacks (the logging
      module's lock: concurrent.futures imports logging), and a KeyboardInterrupt raised inside
      one is swallowed with that lock still held, so the next such fork, from any thread, hangs
      for ever (seen once in 60 interrupts at start-up);
    - an import (load()). Elsewhere than the main thread it does nothing: only the main thread
      takes interrupts. One noted before it is the run's own: not raised again here."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = noted()
    with deferred():
        yield
    if noted() and not before:
        raise KeyboardInterrupt


def load(name):
    """importlib.import_module(name), whole, with an interrupt raised after it loaded. A
    KeyboardInterrupt raised inside an import is not an interrupt any more: importlib swallowed
    one (a run went on and exited 0), a C extension or __set_name__ turned others into
    ImportError or RuntimeError (a report lost to a Ctrl-C). For the heavy third-party modules
    loaded only where they are used (scipy, matplotlib, numpy); the harness's own modules are
    imported normally, at the top, while the launcher and __main__ hold the interrupts."""
    loaded = sys.modules.get(name)  # nothing to guard (verdict fits ask on every slope),
    if loaded is not None and not getattr(loaded.__spec__, "_initializing", False):
        return loaded  # unless another thread is still loading it: then importlib waits
    with held():
        return importlib.import_module(name)


def as_completed(futures):
    """concurrent.futures.as_completed for the main thread, interrupts noted while it waits and
    raised here as KeyboardInterrupt between waits (at most TICK_S apart)."""
    pending = set(futures)
    with deferred():
        while pending:
            if noted():
                raise KeyboardInterrupt
            done, pending = concurrent.futures.wait(
                pending, timeout=TICK_S, return_when=concurrent.futures.FIRST_COMPLETED)
            yield from done
        if noted():
            raise KeyboardInterrupt
