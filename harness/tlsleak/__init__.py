"""tlsleak: reproduce and judge memory leaks at thread-local-storage teardown."""
import signal

__version__ = "0.1.0"

# The signals that interrupt a run (exit 130, the finished cells kept): SIGHUP is a closed
# terminal or a dropped SSH session (Windows has none). The launcher's shell lists them too.
INTERRUPT_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP")
                          if hasattr(signal, n))


class UsageError(Exception):
    """Bad input from the user: reported as one line, exit 2, nothing written."""


class InfraError(Exception):
    """The harness or a build failed: exit 3."""
