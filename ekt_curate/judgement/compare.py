"""The strict checker: an answer against a gold, both already normalized.

Rules, each with the case that motivated it in tests/judgement/test_compare.py:
- an integral gold ("72", 72, 72.0, "1.5e3") is met only by an integral answer: exactly, after
  the float snap of number_text (``42.004`` is not 42, ``1e9 / 3 * 3`` is 1e9);
- a non-integral gold: exactly equal, or within ``rel_tol`` (default 1e-4) of the gold;
- gold precision (``gold_precision``): a gold written with d decimals also matches an answer
  that rounds to it at d decimals (|answer - gold| <= 0.5 * 10**-d, both roundings of a tie).
  ``auto`` (default): only when the gold is written with at least 2 decimals (``6.67`` vs 20/3);
  ``always``: at least 1 decimal; ``off``: never. A gold written without decimals ("72", any
  GSM8K gold) has d = 0 and is never touched by this rule, in any mode: it stays integral; nor is
  a gold in scientific notation (``1e-05`` is Python's exact shortest repr, not a rounding);
- units (units.py): a word after the answer's number counts against a gold without one only if
  it is a unit of measure (``18 dollars`` vs ``18``; ``42 squared``, ``42 tenths``, ``42 apples``
  fail); against a gold with a word it must be that word (``2 cats`` vs ``2 dogs``, ``15 hours`` vs
  ``15 minutes`` fail), or absent (``72`` vs ``72 clips``);
- a flag matches only the same flag (``True`` is not 1); text matches text, case-insensitively,
  with runs of whitespace as one space; a number never matches text.
"""

from __future__ import annotations

from fractions import Fraction

from ekt_curate.judgement.answer import Answer, show
from ekt_curate.judgement.units import is_measure

DEFAULT_REL_TOL = 1e-4
GOLD_PRECISION_MODES = ("auto", "always", "off")
_MIN_DECIMALS = {"auto": 2, "always": 1}


def precision_decimals(gold: Answer, gold_precision: str) -> int | None:
    """The d of the gold-precision rule, or None where the rule does not apply to this gold:
    it needs at least 2 (auto) or 1 (always) digits written after the point."""
    least = _MIN_DECIMALS.get(gold_precision)
    if least is None or gold.decimals is None or (gold.written_digits or 0) < least:
        return None
    return gold.decimals


def compare(answer: Answer, gold: Answer, rel_tol: float = DEFAULT_REL_TOL,
            gold_precision: str = "auto") -> tuple[bool, str]:
    """(passed, detail). The detail says why a wrong answer is wrong."""
    if answer.problem:
        return False, answer.problem
    if gold.problem:
        return False, f"gold is unusable: {gold.problem}"
    if gold.number is not None:
        return _compare_numbers(answer, gold, rel_tol, gold_precision)
    if gold.flag is not None:
        passed = answer.flag is not None and answer.flag == gold.flag
        return passed, "" if passed else f"expected {gold.flag}, got {show(answer)}"
    passed = answer.text is not None and answer.text.casefold() == (gold.text or "").casefold()
    return passed, "" if passed else f"expected {gold.text!r}, got {show(answer)}"


def _compare_numbers(answer: Answer, gold: Answer, rel_tol: float, gold_precision: str) -> tuple[bool, str]:
    assert gold.number is not None
    if answer.number is None:
        shown = answer.flag if answer.flag is not None else answer.text
        return False, f"expected {show(gold)}, got {shown!r}, which is not a number"
    if answer.unit and gold.unit and answer.unit != gold.unit:
        return False, f"expected {show(gold)}, got {show(answer)}: the units differ"
    if answer.unit and not gold.unit and not is_measure(answer.unit):
        return False, (f"expected {show(gold)}, got {show(answer)}: {answer.unit!r} after a number is not a unit "
                       "of measure, so it may change what the number means (a word counts only where the gold "
                       "has the same one)")
    wrong = f"expected {show(gold)}, got {show(answer)}"
    if answer.number == gold.number:
        return True, ""
    decimals = precision_decimals(gold, gold_precision)
    if decimals is not None and abs(answer.number - gold.number) * 2 * Fraction(10) ** decimals <= 1:
        return True, ""
    if gold.number.denominator == 1:
        # An integral gold is met only by an integral answer (floats were snapped on parsing).
        if answer.number.denominator != 1:
            return False, f"{wrong}, which is not an integer"
        return False, wrong
    tolerance = Fraction(rel_tol) * abs(gold.number)
    passed = abs(answer.number - gold.number) <= tolerance
    return passed, "" if passed else wrong
