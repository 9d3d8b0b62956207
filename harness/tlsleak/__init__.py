"""tlsleak: reproduce and judge memory leaks at thread-local-storage teardown."""

__version__ = "0.1.0"

# Exit codes of the CLI (README "Exit codes").
EXIT_OK = 0
EXIT_LEAK = 1
EXIT_USAGE = 2
EXIT_INFRA = 3
EXIT_INTERRUPTED = 130
EXIT_PIPE = 141  # 128 + SIGPIPE: whoever read our output stopped reading
# The signals that interrupt a run (exit 130, the finished cells kept), by name: Windows has
# no SIGHUP. SIGHUP is a closed terminal or a dropped SSH session. (The launcher's shell lists
# them too.)
INTERRUPT_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


class UsageError(Exception):
    """Bad input from the user: reported as one line, exit 2, nothing written."""


class InfraError(Exception):
    """The harness or a build failed: exit 3."""
