"""The commands of the CLI: one module each, one row each in COMMANDS.

A command module offers
    HELP = "one line for `tlsleak --help`"
    add_parser(sub) -> argparse parser   (sub.add_parser(NAME, help=HELP) plus its options)
    main(args) -> int                    (the exit code; may raise UsageError / InfraError)
To add a command: write commands/NAME.py with those three, and add one row below.
"""
from tlsleak.commands import (bench, bisect, cache_cmd, catalog_cmd, compare, explore, history,
                              merge, report, run, show)

# (command name, module), in the order `tlsleak --help` lists them.
COMMANDS = (
    ("list", catalog_cmd),
    ("run", run),
    ("show", show),
    ("report", report),
    ("merge", merge),
    ("bench", bench),
    ("compare", compare),
    ("bisect", bisect),
    ("bisect-step", bisect.step),
    ("history", history),
    ("cache", cache_cmd),
    ("explore", explore),
)
