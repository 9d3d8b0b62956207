"""How a measured number is written, the one rule the verdict reasons, the JUnit messages and
the reports share."""
import pytest

from tlsleak.numtext import ci, num, percent, rate, rate_pm, rate_value, size

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


@pytest.mark.parametrize("value, unit, text", [
    (1536 * 1024, "B", "1.5 MiB"), (57344, "B", "56 KiB"), (144, "B", "144 B"),
    (3 << 30, "B", "3 GiB"), (-2048, "B", "-2 KiB"), (2.0, "maps", "2.0 maps"),
    (None, "B", "-")])
def test_sizes_in_binary_units_three_significant_figures(value, unit, text):
    assert size(value, unit) == text


RATE = {"value": 1031.2, "unit": "B/thread", "ci": [1022.1, 1040.3], "confidence": 0.95, "n": 33}


def test_a_rate_reads_the_same_in_every_form():
    assert rate(RATE) == "1031 B/thread (95% CI 1022..1040)"
    assert rate_value(RATE) == "1031 B/thread"
    assert rate_pm(RATE) == "1031 +- 9"
    assert rate_pm(dict(RATE, unit="B/s")) == "1031 +- 9 B/s"
    assert rate_pm({**RATE, "value": 0.4, "ci": [-2.6, 3.4]}) == "0.4 +- 3.0"
    assert rate_pm({**RATE, "value": 0.0, "ci": [0.0, 0.0]}) == "0.00 +- 0.00"
    assert [rate(None), rate_value(None), rate_pm(None)] == ["-", "-", "-"]


def test_a_per_look_confidence_is_not_rounded_in_an_interval():
    assert ci(0.99875, 57344, 57344) == "99.875% CI 57344..57344"
