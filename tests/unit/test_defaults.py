"""One home for defaults and ranges: the run parser and the settings types read defaults.PARAMS."""
import pytest

from tlsleak import UsageError, cli
from tlsleak.commands.run import settings_from
from tlsleak.defaults import (PARAMS, PLATFORM_DEFAULTS, SETTINGS_GROUPS, default,
                              platform_dependent)
from tlsleak.settings import Settings

pytestmark = pytest.mark.unit

SETTINGS_PARAMS = [p for p in PARAMS if p.group in SETTINGS_GROUPS]
CLI_PARAMS = [p for p in SETTINGS_PARAMS if p.kind != "internal"]


def _run_args(*argv):
    return cli.parser().parse_args(["run", *argv])


def test_the_settings_types_default_to_the_table():
    flat = Settings().as_dict()
    for p in SETTINGS_PARAMS:
        if p.name == "signals":
            assert flat["deciding"] == ["commit", "rss", "heap_inuse", "heap_mapped"]
        elif p.name != "interval":
            assert flat[p.name] == p.default, p.name


@pytest.mark.parametrize("p", CLI_PARAMS, ids=lambda p: p.name)
@pytest.mark.parametrize("platform", sorted(PLATFORM_DEFAULTS))
def test_the_run_settings_default_to_the_table_for_each_platform(p, platform):
    """An option not given takes the table's default, or the platform's where it has one."""
    got = settings_from(_run_args("--platform", platform)).as_dict()
    want = default(p.name, platform)
    if p.name == "signals":
        assert got["deciding"] == ["commit", "rss", "heap_inuse", "heap_mapped"]
    elif p.kind != "size" and p.name not in ("interval", "max_maps"):
        assert got[p.name] == want, p.name
    if p.name not in platform_dependent():
        assert getattr(_run_args("--platform", platform), p.name) == p.default


def test_wine_defaults_are_smaller_than_native_ones():
    """Wine creates a few hundred threads per second: its budget keeps a cell under 10 s."""
    assert default("threads", "wine") < default("threads")
    assert default("budget_s", "wine") < 10


@pytest.mark.parametrize("p", [p for p in CLI_PARAMS if p.kind == "int"], ids=lambda p: p.name)
def test_the_run_parser_accepts_the_range_and_refuses_past_it(p):
    assert getattr(_run_args(p.option, str(int(p.lo))), p.name) == p.lo
    assert getattr(_run_args(p.option, str(int(p.hi))), p.name) == p.hi
    for bad in (p.lo - 1, p.hi + 1):
        with pytest.raises(UsageError, match="out of range"):
            _run_args(p.option, str(int(bad)))


@pytest.mark.parametrize("p", [p for p in CLI_PARAMS if p.kind == "float"], ids=lambda p: p.name)
def test_float_options_refuse_their_open_or_closed_bounds(p):
    if p.lo_open:
        with pytest.raises(UsageError):
            _run_args(p.option, str(p.lo))
    else:
        assert getattr(_run_args(p.option, str(p.lo)), p.name) == p.lo
    with pytest.raises(UsageError):
        _run_args(p.option, str(p.hi * 2 + 1))
