"""The warden (Linux): nothing the harness starts outlives it, even when the harness itself is
SIGKILLed. The cells die with the harness by PDEATHSIG, but what they started does not: a
grandchild that left with setsid(), the program behind a wrapper script of --exec. Those are
re-parented to the nearest subreaper still alive, so one must outlive the harness.

At start-up the process the user started splits in two. The parent stays as the warden: a
subreaper that only waits, with nothing loaded but what start-up had. The child goes on as the
harness. When the harness ends, however it ends, the warden kills whatever came back to it,
then ends as the harness did (the same exit status, or the same signal).
- The interrupt signals the warden gets are passed on to the harness: one sent to the warden's
  pid (kill, a CI runner's SIGTERM), and the SIGHUP of a terminal that hangs up, which the
  kernel sends to the session leader only (the warden, when tlsleak was started as a
  session's program). A Ctrl-C reaches the whole foreground group, the harness with it: the
  copy passed on is only noted (interrupts.py: a second interrupt changes nothing).
- When the warden is the one SIGKILLed, the harness gets SIGTERM (its PDEATHSIG) and cleans up
  as on any interrupt, its own subreaper sweep included."""
import os
import resource
import signal
import time

from tlsleak import INTERRUPT_SIGNALS

CLEAN_UP_S = 10.0  # a process stuck in the kernel (state D) is given up on after this


def split(become_subreaper, dies_with):
    """Returns in the harness (the child); the warden never returns. The caller holds the
    interrupt signals blocked (they stay pending for whichever process takes them). Without a
    subreaper there is nothing to gain: no split. The OS's part is the caller's (_linux.py):
    become_subreaper() -> bool, and dies_with(parent, signal) -> False if parent is gone."""
    if not become_subreaper():
        return
    watched = {*INTERRUPT_SIGNALS, signal.SIGCHLD}
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # an inherited SIG_IGN would reap for us
    before = signal.pthread_sigmask(signal.SIG_BLOCK, watched)
    warden = os.getpid()
    harness = os.fork()
    if harness == 0:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)  # programs must not inherit CHLD held
        if not dies_with(warden, signal.SIGTERM):  # the warden is gone already: an interrupt
            os.kill(os.getpid(), signal.SIGTERM)
        return
    status = _watch(harness, watched)
    _kill_what_came_back()
    _end_as(status)


def _watch(harness, watched):
    """Wait for the harness to end, reaping what else ends meanwhile; pass signals on."""
    while True:
        info = signal.sigwaitinfo(watched)
        if info.si_signo == signal.SIGCHLD:
            status = _reap(harness)
            if status is not None:
                return status
        elif info.si_pid != harness:
            try:
                os.kill(harness, info.si_signo)
            except ProcessLookupError:  # ended meanwhile: its SIGCHLD is pending
                pass


def _reap(harness=None):
    """Reap every child that ended; the harness's wait status if it is one of them."""
    found = None
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return found
        if pid == 0:
            return found
        if pid == harness:
            found = status


def _children():
    """Pids whose parent is this process, from /proc/PID/stat (the field after the name)."""
    me, kids = os.getpid(), []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == me:
            kids.append(int(name))
    return kids


def _kill_what_came_back():
    """SIGKILL every child until none is left: each one killed hands its own children to us."""
    deadline = time.monotonic() + CLEAN_UP_S
    while time.monotonic() < deadline:
        _reap()
        kids = _children()
        if not kids:
            return
        for pid in kids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.01)


def _end_as(status):
    """Leave with the harness's exit status, or die of its signal (without a core of ours)."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if sig != signal.SIGKILL:  # its action cannot be set (nor needs to be)
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {sig})
        os.kill(os.getpid(), sig)
        os._exit(128 + sig)  # a signal that does not end a process by default
    os._exit(os.waitstatus_to_exitcode(status))
