"""Which LaTeX golds are numbers in dress (judged by the strict rules under --checker math-verify)."""

from fractions import Fraction

import pytest

from ekt_curate.judgement.latex_number import latex_number


@pytest.mark.parametrize(("gold", "number", "unit"), [
    ("\\boxed{72}", 72, None), ("$72$", 72, None), ("\\(-3.5\\)", Fraction(-7, 2), None),
    ("\\boxed{$1{,}000$}", 1000, None), ("\\$1,\\!000", 1000, "dollar"), ("72 \\text{ clips}", 72, "clip"),
    ("\\boxed{50\\%}", 50, "%"),
])
def test_numbers_in_latex_dress(gold, number, unit):
    answer = latex_number(gold)
    assert answer is not None and answer.number == number and answer.unit == unit


@pytest.mark.parametrize("gold", ["\\frac{3}{4}", "\\boxed{\\sqrt{2}}", "$5$ and $6$", "\\boxed{x + 1}",
                                  "\\text{Monday}", "\\boxed{" + "9" * 300 + "}"])
def test_real_latex_and_text_are_left_to_math_verify(gold):
    assert latex_number(gold) is None
