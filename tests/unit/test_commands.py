"""The CLI is built from the command table: one module per command, each parsed and dispatched
the same way."""
import pytest

from tlsleak import UsageError, cli
from tlsleak.commands import COMMANDS

pytestmark = pytest.mark.unit


# The positional arguments a command cannot do without.
REQUIRED = {"show": ["CELL"], "report": ["results.json"], "merge": ["a.json", "--out", "d"],
            "compare": ["a", "b"], "cache": ["list"],
            "bisect": ["--repo", "d", "--good", "a", "--bad", "b", "-s", "s", "-a", "x:static"],
            "bisect-step": ["--repo", "d", "-s", "s", "-a", "x:static"],
            "history": ["--repo", "d", "-a", "x:static", "--tags", "v*", "--out", "o"]}


def test_every_row_of_the_table_is_a_subcommand_with_its_own_main():
    p = cli.parser()
    sub = next(a for a in p._actions if a.dest == "command")
    assert list(sub.choices) == [name for name, _ in COMMANDS]
    for name, module in COMMANDS:
        assert p.parse_args([name, *REQUIRED.get(name, [])]).main is module.main
        assert module.HELP


def test_exec_keeps_the_program_argv_untouched():
    own, rest = cli._split_exec(["run", "-a", "system", "--exec", "--", "prog", "--threads", "x"])
    assert own == ["run", "-a", "system", "--exec"] and rest == ["prog", "--threads", "x"]
    assert cli._split_exec(["run"]) == (["run"], None)


def test_a_usage_error_is_one_line_and_exit_2(capsys):
    assert cli.main(["run", "--concurrency", "5000"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "5000 is out of range (1..4096)" in err
    with pytest.raises(UsageError):
        cli.parser().parse_args(["nosuch"])
