"""The shape of the harness package (harness/tlsleak/), as /work/shared/STYLE.md and the
developers' guide ask: small functions and modules a reader can hold, and the harness's own
modules imported where a reader and a linter see them (string loading, interrupts.load, only
for heavy third-party modules)."""
import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

PACKAGE = Path(__file__).resolve().parents[2] / "harness" / "tlsleak"
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 400


def modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if "_project" not in p.parts)


def test_the_package_is_found():
    assert (PACKAGE / "cli.py").is_file() and len(modules()) > 20


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in modules()
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long


def test_no_function_is_over_60_lines():
    long = []
    for p in modules():
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{p.relative_to(PACKAGE)}:{node.lineno} {node.name} ({n})")
    assert not long


def _loaded_by_name(tree):
    """The module names given as strings to interrupts.load() or import_module()."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name in ("load", "import_module") and isinstance(node.args[0].value, str):
                yield node.args[0].value


def test_the_harness_s_own_modules_are_imported_normally():
    own = [f"{p.relative_to(PACKAGE)}: {name}" for p in modules()
           for name in _loaded_by_name(ast.parse(p.read_text()))
           if name.startswith("tlsleak")]
    assert not own
