"""Standard output and error that a reader going away cannot break. `tlsleak run | head`, a
`2>&1 | tee` cut short, a terminal closed mid-run: a write then fails (EPIPE, EIO), and left
alone that exception ended the run before its results were written. Guarded, the stream goes
quiet instead and the run goes on to write everything; the command line then ends with
EXIT_PIPE when standard output's reader went away (a pipe nobody reads, as a program killed by
SIGPIPE would; a terminal that hung up, under nohup), and as an infrastructure failure when it
could not be written (a full disk)."""
import errno
import sys


class Guarded:
    """A text stream whose writes and flushes, once one has failed with OSError, are dropped."""

    def __init__(self, stream):
        self._stream = stream
        self.lost = None  # the OSError that ended it
        try:  # asked now: once the terminal has hung up, it no longer says
            self.terminal = stream.isatty()
        except (OSError, ValueError):
            self.terminal = False

    def write(self, text):
        if self.lost is None:
            try:
                return self._stream.write(text)
            except OSError as e:
                self.lost = e
        return len(text)

    def flush(self):
        if self.lost is None:
            try:
                self._stream.flush()
            except OSError as e:
                self.lost = e

    def __getattr__(self, name):  # isatty, fileno, encoding, ...
        return getattr(self._stream, name)


def guard():
    """Put guarded streams in place of sys.stdout and sys.stderr (once)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, Guarded):
            setattr(sys, name, Guarded(stream))


def stdout_lost():
    """The OSError that ended standard output, or None."""
    return getattr(sys.stdout, "lost", None)


def reader_gone(lost):
    """Whether `lost` (stdout_lost()) means the reader went away: a pipe nobody reads any more,
    or a terminal that hung up (EIO); not output that cannot be written (ENOSPC, EIO of a
    file)."""
    return isinstance(lost, BrokenPipeError) or (
        getattr(lost, "errno", None) == errno.EIO and getattr(sys.stdout, "terminal", False))
