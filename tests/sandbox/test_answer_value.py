"""The child-side canonical encoding of answers, and its parent-side decoding."""

from decimal import Decimal
from fractions import Fraction

import pytest

from ekt_curate.sandbox.answer_value import NoAnswer, decode, encode


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (42, ["int", "42"]),
        (-7, ["int", "-7"]),
        (2.5, ["float", "2.5"]),
        (Fraction(7, 2), ["fraction", "7/2"]),
        (Decimal("3.10"), ["decimal", "3.10"]),
        (True, ["bool", "True"]),  # kept apart from 1: True/False are not numbers
        ("18 dollars", ["str", "18 dollars"]),
        (complex(3, 0), ["float", "3.0"]),
    ],
)
def test_round_trip(value, encoded):
    assert encode(value) == encoded
    assert decode(*encoded) == value and type(decode(*encoded)) is type(value if not isinstance(value, complex) else 3.0)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (float("nan"), "not a finite number"),
        (float("inf"), "not a finite number"),
        (Decimal("NaN"), "not a finite number"),
        ([1, 2], "list"),
        ({"a": 1}, "dict"),
        ((1,), "tuple"),
        (None, "None"),
        (complex(1, 2), "imaginary"),
        (10 ** 5000, "4000 digits"),
    ],
    ids=["nan", "inf", "decimal-nan", "list", "dict", "tuple", "none", "complex", "huge-int"],
)
def test_no_answer(value, reason):
    with pytest.raises(NoAnswer, match=reason):
        encode(value)


def test_program_classes_are_never_answers():
    class Sneaky(float):
        def __eq__(self, other):
            return True

    class Forged:
        __module__ = "numpy"  # claims to be a library type, but numpy does not hold it

        def __eq__(self, other):
            return True

        def __float__(self):
            return 42.0

    import numbers

    numbers.Number.register(Forged)
    for value in (Sneaky(1.0), Forged(), type("S", (str,), {})("x"), type("I", (int,), {})(3)):
        with pytest.raises(NoAnswer, match="not a plain value"):
            encode(value)


def test_a_text_longer_than_max_chars_is_no_answer_not_cut():
    # cut to 10 characters, "-" + 9 spaces + "5" would read as a different value
    with pytest.raises(NoAnswer, match="more than the policy's answer_chars"):
        encode("-" + " " * 9 + "5", max_chars=10)
    assert encode("x" * 10, max_chars=10) == ["str", "x" * 10]


def test_library_numbers_convert_to_builtins():
    numpy = pytest.importorskip("numpy")
    assert encode(numpy.int64(12)) == ["int", "12"]
    assert encode(numpy.float64(1.5)) == ["float", "1.5"]
    with pytest.raises(NoAnswer):
        encode(numpy.float64("nan"))
    with pytest.raises(NoAnswer):
        encode(numpy.array([1, 2]))
