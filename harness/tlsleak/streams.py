"""Standard output and error that a reader going away cannot break. `tlsleak run | head`, a
`2>&1 | tee` cut short, a terminal closed mid-run: a write then fails (EPIPE, EIO), and left
alone that exception ended the run before its results were written. Guarded, the stream goes
quiet instead and the run goes on to write everything; the command line then ends with
EXIT_PIPE when standard output's reader went away (as a program killed by SIGPIPE would), and
as an infrastructure failure when it could not be written (a full disk)."""
import sys


class Guarded:
    """A text stream whose writes and flushes, once one has failed with OSError, are dropped."""

    def __init__(self, stream):
        self._stream = stream
        self.lost = None  # the OSError that ended it

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
