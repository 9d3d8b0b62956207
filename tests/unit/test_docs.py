"""The docs say what the code does: the README's usage block lists exactly the options the
parser accepts, RESULTS.md lists exactly the fields the schema defines and the signals of
signals.TABLE, and the workload ranges stay within the repro programs' (DESIGN.md "Repro command line")."""
import json
import re

import pytest

from tlsleak import cli, results, signals, vocab
from tlsleak.build import ROOT
from tlsleak.defaults import in_group
from tlsleak.settings import Settings

pytestmark = pytest.mark.unit

README = (ROOT / "README.md").read_text()
RESULTS_MD = (ROOT / "docs" / "RESULTS.md").read_text()
DESIGN = (ROOT / "docs" / "DESIGN.md").read_text()
SCHEMA = json.loads(results.SCHEMA_PATH.read_text())


def _usage_block():
    at = README.index("## Usage")
    start = README.index("```\n", at) + 4
    return README[start:README.index("```", start)]


def _readme_options():
    """{command: options named in its usage lines}"""
    found, command = {}, None
    for line in _usage_block().splitlines():
        m = re.match(r"tlsleak ([\w-]+)", line)
        if m:
            command = m.group(1)
        found.setdefault(command, set()).update(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", line))
    return found


def _parser_options():
    """{command: [option strings of each option]}"""
    sub = next(a for a in cli.parser()._actions if a.dest == "command")
    return {name: [set(a.option_strings) for a in p._actions
                   if a.option_strings and "--help" not in a.option_strings]
            for name, p in sub.choices.items()}


def test_the_readme_usage_block_names_every_option_of_every_command_and_no_other():
    readme, parser = _readme_options(), _parser_options()
    assert set(readme) == set(parser)
    for command, options in parser.items():
        missing = [sorted(o) for o in options if not o & readme[command]]
        assert not missing, (command, missing)
        unknown = readme[command] - set().union(*options)
        assert not unknown, (command, unknown)


def _table_keys(section):
    """The backticked names in the first column of the table under `section`."""
    text = RESULTS_MD[RESULTS_MD.index(section):]
    text = text[:text.index("\n## ", 1)] if "\n## " in text[1:] else text
    keys = set()
    for line in text.splitlines():
        if line.startswith("| `"):
            keys.update(re.findall(r"`([a-z_]+)`", line.split("|")[1]))
    return keys


def test_results_md_lists_every_top_level_and_cell_field_of_the_schema():
    assert _table_keys("## Top level") == set(SCHEMA["properties"])
    assert _table_keys("## A cell") == set(SCHEMA["$defs"]["cell"]["properties"])


def test_results_md_settings_fields_are_the_schema_and_the_run_settings():
    row = next(line for line in RESULTS_MD.splitlines() if line.startswith("| `settings`"))
    named = set(re.findall(r"`([a-z_]+)`", row.split("|")[3]))
    assert set(SCHEMA["properties"]["settings"]["properties"]) == set(Settings().as_dict())
    assert named == set(Settings().as_dict())


def test_results_md_rate_is_the_schema_rate():
    para = RESULTS_MD[RESULTS_MD.index("A **rate** is"):]
    para = para[:para.index("\n\n")]
    named = set(re.findall(r'"([a-z_]+)":', para))
    assert named == set(SCHEMA["$defs"]["rate"]["properties"])


def test_results_md_signal_table_is_signals_table():
    block = RESULTS_MD[RESULTS_MD.index("<!-- signals:start -->"):
                       RESULTS_MD.index("<!-- signals:end -->")]
    rows = [[c.strip().strip("`") for c in line.split("|")[1:-1]]
            for line in block.splitlines() if line.startswith("| `")]
    floor = {"os": "floor", "stats": "stats_floor"}
    assert rows == [[s.name, s.unit, floor.get(s.floor, str(s.floor)), s.role, s.meaning]
                    for s in signals.TABLE]


def test_workload_ranges_stay_within_the_repro_programs():
    """DESIGN.md "Repro command line" states the programs' ranges; the harness must not accept more."""
    line = DESIGN[DESIGN.index("within: threads"):].split("\n\n")[0]
    program = {k: (int(lo), int(hi)) for k, lo, hi in re.findall(r"(\w+) (\d+)\.\.(\d+)", line)}
    for p in in_group("workload"):
        lo, hi = program[p.name]
        assert lo <= p.lo and p.hi <= hi, p.name
    assert program["concurrency"] == (1, 4096) == (in_group("workload")[1].lo,
                                                   in_group("workload")[1].hi)


def test_the_readme_exit_codes_are_vocabs():
    """Every exit code the CLI gives (vocab.EXIT_*) has its row in README "Exit codes", and no
    other row is there."""
    text = README[README.index("### Exit codes"):]
    text = text[:text.index("\n### ", 1)]
    rows = {int(m) for m in re.findall(r"^\| (\d+) \|", text, re.M)}
    assert rows == {v for k, v in vars(vocab).items() if k.startswith("EXIT_")
                    and isinstance(v, int)}


def _json_block_after(heading):
    at = DESIGN.index(heading)
    start = DESIGN.index("```json\n", at) + len("```json\n")
    return json.loads(DESIGN[start:DESIGN.index("```", start)])


def test_design_lists_the_fields_of_tlsleak_built_json():
    from tlsleak.versions import builtfile
    example = _json_block_after("Allocators built from source (`build/tlsleak-built.json`")
    assert example["format"] == builtfile.FORMAT
    assert tuple(example["allocators"][0]) == builtfile.FIELDS


def test_design_lists_the_fields_cmake_writes_for_each_configuration():
    """The manifest example's configuration has the members tlsleak_add_config writes."""
    config_cmake = (ROOT / "cmake" / "tlsleak_config.cmake").read_text()
    written = re.search(r"foreach\(key ([^)]*)\)\n    string\(TOUPPER", config_cmake).group(1)
    example = _json_block_after("Build manifest (`build/manifest.json`)")
    assert set(example["configs"][0]) == set(written.split()) | {"available"}
