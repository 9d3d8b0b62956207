"""The tlsleak command line: parses, dispatches to one module per command (commands/), prints
errors. Exit codes: 0 no leak, 1 leak found, 2 usage or configuration error, 3 infrastructure
failure, 130 interrupted, 141 the reader of our output went away (as SIGPIPE would).
"""
import argparse
import os
import sys

from tlsleak import InfraError, UsageError, __version__, interrupts, streams
from tlsleak.vocab import EXIT_INFRA, EXIT_INTERRUPTED, EXIT_PIPE, EXIT_USAGE
from tlsleak.commands import COMMANDS


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit 2."""

    def error(self, message):
        raise UsageError(message)


def parser():
    """The whole parser, one sub-parser per row of commands.COMMANDS."""
    p = _Parser(prog="tlsleak", description="Reproduce and judge memory leaks at thread-local "
                "storage teardown, across allocators and link modes.")
    p.add_argument("--version", action="version", version=f"tlsleak {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, module in COMMANDS:
        module.add_parser(sub).set_defaults(main=module.main)
    return p


def _split_exec(argv):
    """Everything after --exec belongs to the user's program, untouched by our parser."""
    if "--exec" not in argv:
        return argv, None
    at = argv.index("--exec")
    rest = argv[at + 1:]
    return argv[:at + 1], rest[1:] if rest[:1] == ["--"] else rest


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        interrupts.install()
        own, exec_argv = _split_exec(argv)
        args = parser().parse_args(own)
        if exec_argv is not None:
            if not exec_argv:
                raise UsageError("--exec needs a command: tlsleak run --exec -- CMD [ARGS...]")
            args.exec_argv = exec_argv
        args.argv = argv
        code = args.main(args)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        # The reader went away (`tlsleak list --json | head -1`): end quietly, as a program
        # killed by SIGPIPE would, once everything is written (streams.py).
        lost = streams.stdout_lost()
        if lost is None or code == EXIT_INTERRUPTED:  # interrupted says more
            return code
        if streams.reader_gone(lost):
            return EXIT_PIPE
        print(f"tlsleak: could not write the output: {lost.strerror or lost} (anything the "
              f"command writes to files is written)", file=sys.stderr)
        return EXIT_INFRA
    except BrokenPipeError:  # the same, where the streams are not guarded (called in-process)
        # Keep Python from complaining again at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE
    except UsageError as e:
        print(f"tlsleak: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except InfraError as e:
        print(f"tlsleak: infrastructure failure: {e}", file=sys.stderr)
        return EXIT_INFRA
    except KeyboardInterrupt:
        print("tlsleak: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:  # the harness itself failed: say so in one line, exit 3
        if os.environ.get("TLSLEAK_DEBUG"):
            raise
        print(f"tlsleak: internal error: {type(e).__name__}: {e} (TLSLEAK_DEBUG=1 shows where)",
              file=sys.stderr)
        return EXIT_INFRA
