"""The one number grammar: what it accepts, what it refuses, never a wrong value."""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from propertykit import examples

from inspect_station.numbers import (
    MAX_DIGITS,
    NumberError,
    exact_sum,
    fraction_text,
    normalize,
    parse_number,
    split_unit,
)

# The grammar as the README states it, written independently of the module under test.
REFERENCE = re.compile(r" *[+-]?([0-9]+(\.[0-9]+)?|\.[0-9]+) *")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("١٢٠.٠٥", "ARABIC-INDIC DIGIT ONE"),
        ("１２０.０５", "FULLWIDTH DIGIT ONE"),
        ("१२०.०५", "DEVANAGARI DIGIT ONE"),
        ("++120.05", "more than one sign"),
        ("+-120.05", "more than one sign"),
        ("1_20.05", "digit separators"),
        ("12 0.05", "blank inside"),
        ("120.0 5", "blank inside"),
        ("1e5", "exponent is not allowed"),
        ("1E-3", "exponent is not allowed"),
        ("12,5", "decimal point"),
        ("1.2.3", "more than one decimal point"),
        ("12.", "followed by a digit"),
        ("1-2", "sign may only stand at the start"),
        ("inf", "not finite"),
        ("-Infinity", "not finite"),
        ("NaN", "not finite"),
        ("", "empty"),
        ("   ", "empty"),
        ("12\u00a0345", "U+00A0"),
        ("\x1b[31m1", "U+001B"),
        ("0x10", "is not a number"),
        ("abc", "is not a number"),
    ],
)
def test_refused_with_a_sentence_saying_why(text, reason):
    with pytest.raises(NumberError) as info:
        parse_number(text)
    message = info.value.message
    assert reason in message
    assert message.endswith(".") and "\n" not in message and "\x1b" not in message


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("120.05", "120.05"),
        ("+120.05", "120.05"),
        ("-0.000", "-0.000"),
        (".5", "0.5"),
        ("-.5725", "-0.5725"),
        ("  12.345 ", "12.345"),
        ("000120.0500", "120.0500"),
        ("9" * MAX_DIGITS, "9" * MAX_DIGITS),
        ("0." + "0" * (MAX_DIGITS - 2) + "1", "0." + "0" * (MAX_DIGITS - 2) + "1"),
    ],
)
def test_accepted_exactly_as_written(text, value):
    assert parse_number(text) == Decimal(value)
    assert format(parse_number(text), "f") == value  # every digit kept, trailing zeros too


def test_more_digits_than_the_bound_are_refused_with_a_short_message():
    with pytest.raises(NumberError, match=f"has {MAX_DIGITS + 1} digits; .* at most {MAX_DIGITS}"):
        parse_number("1" * (MAX_DIGITS + 1))
    huge = "120.1" + "0" * 10_000_000 + "1"
    with pytest.raises(NumberError) as info:
        parse_number(huge)
    assert len(info.value.message) < 120


def test_the_61_digit_value_just_above_the_limit_is_refused_not_rounded():
    with pytest.raises(NumberError, match="at most 30"):
        parse_number("120.1" + "0" * 55 + "1")


def test_an_exponent_only_where_declared_and_then_written_out():
    assert normalize("1.2345E+01", exponent=True) == "12.345"
    assert normalize("-1.5e-3", exponent=True) == "-0.0015"
    assert normalize("1E+3", exponent=True) == "1000"
    for text in ("1e-40", "1e40", "1e5000", "1e", "1e+"):
        with pytest.raises(NumberError):
            parse_number(text, exponent=True)


def test_normalize_keeps_number_resolution_and_minus_zero():
    assert normalize("+0000.123") == "0.123"
    assert normalize("-001.2340") == "-1.2340"
    assert normalize("-0.000") == "-0.000"


def test_split_unit():
    assert split_unit("4.725in") == ("4.725", "in")
    assert split_unit(" 12.5 mm ") == ("12.5", "mm")
    assert split_unit("pass") == ("pass", None)
    assert split_unit("12 0.05") == ("12 0.05", None)
    # A 64 KiB stdin value of letters ending in a digit once made a regex backtrack for minutes.
    assert split_unit("a" * 60_000 + "1") == ("a" * 60_000 + "1", None)


def test_exact_sum_never_rounds():
    a = Decimal("1" + "0" * 29)
    b = Decimal("0." + "0" * 28 + "1")
    total = exact_sum(a, b)
    assert Fraction(total) == Fraction(a) + Fraction(b)
    assert exact_sum(Decimal("120.00"), Decimal("-0.10")) == Decimal("119.90")
    assert str(exact_sum(Decimal("120.00"), Decimal("-0.10"))) == "119.90"


def test_fraction_text_is_exact_when_the_value_terminates():
    assert fraction_text(Fraction(-1, 8), 2) == "-0.125"
    assert fraction_text(Fraction(1, 3), 2, 5) == "0.33333"
    assert fraction_text(Fraction(0), 3) == "0.000"
    assert fraction_text(Fraction(-1, 10**9), 0, 3) == "-0.000000001"
    assert fraction_text(Fraction(-1, 3 * 10**9), 0, 3) == "0"


@settings(max_examples=examples(3000), deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789+-.eE _,١１ \x00\u202e")), max_size=40))
def test_any_text_is_read_exactly_as_the_reference_grammar_says_or_refused(text):
    try:
        value = parse_number(text)
    except NumberError:
        assert not REFERENCE.fullmatch(text) or sum(c.isdigit() for c in text) > MAX_DIGITS
        return
    assert REFERENCE.fullmatch(text)
    assert Fraction(value) == Fraction(text.strip())


@settings(max_examples=examples(1000), deadline=None)
@given(st.text(max_size=60))
def test_any_unicode_text_is_a_number_or_one_sentence(text):
    try:
        parse_number(text)
    except NumberError as exc:
        assert "\n" not in exc.message
