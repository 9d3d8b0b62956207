"""Interrupts taken at awkward moments: inside Python's at-fork callbacks (a subprocess with a
preexec_fn runs them), where a KeyboardInterrupt is swallowed; inside an import; and after one
was already noted.
In-process, on the real signal machinery: the test sends itself SIGINT."""
import os
import signal
import subprocess
import sys

import pytest

from tlsleak import interrupts

pytestmark = pytest.mark.unit

_armed = {"on": False}


def _interrupt_inside_the_fork_callback():
    if _armed["on"]:
        _armed["on"] = False
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(10000):  # bytecode: the handler runs here, inside the callback
            pass


os.register_at_fork(after_in_parent=_interrupt_inside_the_fork_callback)


@pytest.fixture
def handlers():
    old = {s: signal.getsignal(s) for s in interrupts.TAKEN}
    interrupts.install()
    yield
    for s, h in old.items():
        signal.signal(s, h)
    interrupts._state["noted"] = False


def _fork():
    return subprocess.Popen(["true"], preexec_fn=lambda: None)


def test_python_swallows_an_interrupt_raised_inside_an_at_fork_callback(handlers,
                                                                      monkeypatch):
    """Why held() exists: the run would go on as if nothing came, with whatever lock the
    callback held (logging's) never released."""
    swallowed = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: swallowed.append(u.exc_type))
    _armed["on"] = True
    _fork().wait()  # no KeyboardInterrupt escapes
    assert swallowed == [KeyboardInterrupt]


def test_an_interrupt_during_a_guarded_fork_is_raised_after_it_with_the_child_started(handlers):
    started = []
    _armed["on"] = True
    with pytest.raises(KeyboardInterrupt):
        with interrupts.held():
            started.append(_fork())
    assert started and started[0].wait(timeout=10) == 0


def test_once_an_interrupt_is_noted_a_second_one_does_not_raise(handlers):
    with interrupts.deferred():
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(10000):
            pass
    assert interrupts.noted()
    os.kill(os.getpid(), signal.SIGINT)  # e.g. a second Ctrl-C while the results are written
    for _ in range(10000):
        pass


_SELF_INTERRUPTING = """
import os, signal
os.kill(os.getpid(), signal.SIGINT)
for _ in range(10000):  # bytecode: the handler runs here, in the middle of the import
    pass
WHOLE = True
"""


@pytest.fixture
def module(tmp_path, monkeypatch):
    """A module that interrupts its own import half-way."""
    (tmp_path / "tlsleak_selfint.py").write_text(_SELF_INTERRUPTING)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "tlsleak_selfint"
    sys.modules.pop("tlsleak_selfint", None)


def test_an_interrupt_raised_inside_a_plain_import_leaves_the_module_half_loaded(handlers,
                                                                                  module):
    """Why load() exists: whatever the import was doing is cut off where it stood (importlib
    may swallow the interrupt there, a C extension turn it into ImportError)."""
    with pytest.raises(KeyboardInterrupt):
        __import__(module)
    assert module not in sys.modules


def test_an_interrupt_during_a_load_is_raised_after_the_module_loaded_whole(handlers, module):
    with pytest.raises(KeyboardInterrupt):
        interrupts.load(module)
    assert sys.modules[module].WHOLE


def test_a_load_after_the_run_was_interrupted_goes_on(handlers, module):
    """An interrupted run still writes its report: an interrupt noted before (the first
    Ctrl-C) is not raised again by the imports that writing needs."""
    with interrupts.deferred():
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(10000):
            pass
    assert interrupts.load(module).WHOLE
