"""The template files' renderer (harness/tlsleak/templates/__init__.py): @@if/@@else/@@end keep
the lines their facts ask for, nested; a fact or value the caller did not give is an error,
never a blank in the generated file."""
import pytest

from tlsleak import templates

pytestmark = pytest.mark.unit

TEXT = """a
@@if x
x
@@if !y
x and not y
@@else
x and y
@@end
@@else
not x
@@if y
never: this branch is dropped whole
@@end
@@end
z $v
"""


@pytest.mark.parametrize("x, y, kept", [
    (True, False, ["a", "x", "x and not y", "z $v"]),
    (True, True, ["a", "x", "x and y", "z $v"]),
    (False, True, ["a", "not x", "never: this branch is dropped whole", "z $v"]),
    (False, False, ["a", "not x", "z $v"])])
def test_directives_keep_the_lines_of_their_facts_and_nest(x, y, kept):
    assert templates.select(TEXT, {"x": x, "y": y}).splitlines() == kept


def test_all_terms_of_a_condition_must_hold():
    text = "@@if a !b\nkept\n@@end\n"
    assert templates.select(text, {"a": True, "b": False}) == "kept\n"
    assert templates.select(text, {"a": True, "b": True}) == ""


def test_a_missing_fact_or_value_is_an_error_not_a_blank():
    with pytest.raises(KeyError):
        templates.select("@@if nobody\nx\n@@end\n", {})
    with pytest.raises(KeyError):
        templates.render("explore_scenario.c", {"last": 1, "prealloc": 1, "exit": 0,
                                                "note": 0}, {})


@pytest.mark.parametrize("text", ["@@if a\nx\n", "@@iff a\n", "@@if\nx\n@@end\n", "@@end\n",
                                  "x\n@@else\n"])
def test_a_broken_template_is_refused(text):
    with pytest.raises(ValueError):
        templates.select(text, {"a": True})
