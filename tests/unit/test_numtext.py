"""How a measured number is written, the one rule the verdict reasons, the JUnit messages and
the reports share."""
import pytest

from tlsleak.numtext import num, percent

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("value, text", [
    (1040.4, "1040"), (-250.0, "-250"), (100.0, "100"), (0, "0"), (0.0, "0"),
    (99.94, "99.9"), (12.46, "12.5"), (1.0, "1.0"), (-3.25, "-3.2"),
    (0.03125, "0.031"), (0.5, "0.5"), (-0.00123, "-0.0012"),
])
def test_whole_from_100_one_decimal_from_1_two_significant_figures_below(value, text):
    assert num(value) == text


@pytest.mark.parametrize("value, text", [
    (None, "-"), (float("inf"), "inf"), (float("-inf"), "-inf"), (float("nan"), "nan")])
def test_no_number_is_a_dash_and_non_finite_ones_read_as_python_writes_them(value, text):
    assert num(value) == text


@pytest.mark.parametrize("fraction, text", [
    (0.95, "95%"), (0.99875, "99.875%"), (0.999999, "99.9999%"), (1.0, "100%"),
    (None, "0%"), (0, "0%")])
def test_a_per_look_confidence_keeps_its_digits_instead_of_rounding_to_100(fraction, text):
    assert percent(fraction) == text
