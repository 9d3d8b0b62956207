"""Progress of a run on stderr. On a terminal: one status line, redrawn in place (cells done of
total, the cells running, elapsed time and an estimate of what is left). Elsewhere (CI logs,
files): one plain line per finished cell, which a log keeps readably."""
import shutil
import threading
import time

from tlsleak.vocab import is_control

REDRAW_S = 0.5  # the status line's clock ticks this often between cell events


def for_stream(stream, total):
    """The progress display that suits `stream`: Status on a terminal, Lines otherwise."""
    isatty = getattr(stream, "isatty", None)
    return Status(stream, total) if isatty is not None and isatty() else Lines(stream, total)


def finished_text(res):
    """One finished cell in words: 'control_leak-system: leak 1040 B/thread (0.2 s)'."""
    rate = res["rate"]
    shown = f" {rate['value']:.0f} {rate['unit']}" if rate else ""
    return f"{res['id']}: {res['verdict']}{shown} ({res['duration_s']:.1f} s)"


def _clock(seconds):
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


class Silent:
    def started(self, cell_id):
        pass

    def ended(self, cell_id):
        pass

    def finished(self, res):
        pass

    def close(self):
        pass


class Lines(Silent):
    """One line per finished cell: '[  3/208] ID: verdict rate (time)'."""

    def __init__(self, stream, total):
        self.stream, self.total, self.done = stream, total, 0

    def finished(self, res):
        self.done += 1
        if res is not None:
            print(f"[{self.done:>3}/{self.total}] {finished_text(res)}", file=self.stream,
                  flush=True)


class Status(Silent):
    """One line redrawn in place; leaks, crashes and errors are printed above it as they come,
    so they stay on the screen."""

    def __init__(self, stream, total):
        self.stream, self.total, self.done = stream, total, 0
        self.running, self.t0 = {}, time.monotonic()
        self.lock, self.stop = threading.Lock(), threading.Event()
        self.ticker = threading.Thread(target=self._tick, daemon=True)
        self.ticker.start()

    def text(self, now=None):
        """The status line: '[ 12/208] 0:03 elapsed, ~0:50 left; running: a, b'."""
        elapsed = (now if now is not None else time.monotonic()) - self.t0
        left = ("~" + _clock(elapsed / self.done * (self.total - self.done))
                if self.done else "?")
        running = ", ".join(sorted(self.running)) or "-"
        return (f"[{self.done:>3}/{self.total}] {_clock(elapsed)} elapsed, {left} left; "
                f"running: {running}")

    def _draw(self, above=None):
        width = shutil.get_terminal_size((200, 24)).columns
        line = self.text()[:max(20, width - 1)]
        head = f"\r\x1b[K{above}\n" if above else ""
        self.stream.write(f"{head}\r\x1b[K{line}")
        self.stream.flush()

    def _tick(self):
        while not self.stop.wait(REDRAW_S):
            with self.lock:
                self._draw()

    def started(self, cell_id):
        with self.lock:
            self.running[cell_id] = time.monotonic()
            self._draw()

    def ended(self, cell_id):
        with self.lock:
            self.running.pop(cell_id, None)

    def finished(self, res):
        with self.lock:
            self.done += 1
            if res is None:
                return
            notable = res["verdict"] != "ok" and not is_control(res["role"])
            self._draw(finished_text(res) if notable else None)

    def close(self):
        self.stop.set()
        self.ticker.join()
        with self.lock:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
