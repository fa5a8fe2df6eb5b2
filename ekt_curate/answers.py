"""Normalizing answers and comparing them with gold, in the parent, without eval.

Numbers are held as exact ``Fraction`` (ints, Fractions and Decimals stay exact;
floats are converted exactly), so comparison never goes through ``float(str)``
round trips. Rules, each with a test in tests/test_answers.py:
- both integral: exact equality (12 == 12.0; 12 != 12.0001);
- otherwise: relative tolerance (default 1e-4) against the gold;
- a float within 1e-9 of an integer is that integer (0.1 * 3 * 10 == 3);
- text is parsed strictly: surrounding whitespace, a currency sign, thousands
  separators in proper groups, a trailing ``%`` or one unit word, ``a/b``;
  anything else stays text and matches only text;
- ``True``/``False`` are not numbers (``True`` never equals gold 1);
- NaN and infinities never pass.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

DEFAULT_REL_TOL = 1e-4
INTEGER_SNAP = 1e-9

_CURRENCY = "$€£¥₹"
_NUMBER = re.compile(
    r"""^(?P<sign>[-+]?)\s*[{cur}]?\s*
        (?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)
        (?:\s*/\s*(?P<den>\d+))?
        \s*(?P<suffix>%|[A-Za-z]+\.?)?$""".format(cur=re.escape(_CURRENCY)),
    re.VERBOSE,
)
_LEADING_CURRENCY = re.compile(r"^([-+]?)\s*[{cur}]\s*".format(cur=re.escape(_CURRENCY)))


@dataclass(frozen=True)
class Answer:
    """A normalized answer: exactly one of number / text / flag is set."""

    number: Fraction | None = None
    text: str | None = None
    flag: bool | None = None       # a boolean answer: never a number
    problem: str | None = None     # why it can never match (NaN, infinity)

    def display(self) -> object:
        """A JSON-friendly value for the verdict."""
        if self.number is not None:
            if self.number.denominator == 1:
                return int(self.number)
            return float(self.number)
        if self.flag is not None:
            return self.flag
        return self.text


def from_value(value: object) -> Answer:
    """Normalize a decoded sandbox answer (int, float, Fraction, Decimal, bool or str)."""
    if isinstance(value, bool):
        return Answer(flag=value)
    if isinstance(value, int):
        return Answer(number=Fraction(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            return Answer(problem=f"{value!r} is not a finite number")
        nearest = round(value)
        if abs(value - nearest) <= INTEGER_SNAP:
            return Answer(number=Fraction(int(nearest)))
        return Answer(number=Fraction(value))
    if isinstance(value, Fraction):
        return Answer(number=value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            return Answer(problem=f"Decimal {value} is not a finite number")
        return Answer(number=Fraction(value))
    if isinstance(value, str):
        return parse_text(value)
    return Answer(problem=f"unsupported answer type {type(value).__name__}")


def parse_text(text: str) -> Answer:
    """Strict parse of a printed or textual answer; see the module docstring."""
    stripped = text.strip()
    if stripped in ("True", "False"):
        return Answer(flag=stripped == "True")
    if stripped.lower() in ("nan", "inf", "-inf", "+inf", "infinity", "-infinity"):
        return Answer(problem=f"{stripped!r} is not a finite number")
    match = _NUMBER.match(_LEADING_CURRENCY.sub(r"\1", stripped))
    if not match:
        return Answer(text=" ".join(stripped.split()))
    digits = match.group("num").replace(",", "")
    try:
        number = Fraction(Decimal(digits))
    except (InvalidOperation, ValueError):
        return Answer(text=stripped)
    if match.group("den") is not None:
        denominator = int(match.group("den"))
        if denominator == 0:
            return Answer(problem=f"{stripped!r} divides by zero")
        if "." in digits:
            return Answer(text=stripped)  # "1.5/2" is not a fraction anyone writes
        number /= denominator
    if match.group("sign") == "-":
        number = -number
    return Answer(number=number)


def parse_gold(gold: object) -> Answer:
    """Gold from a record (number or text) or from a problems file."""
    if isinstance(gold, (bool, int, float)):
        return from_value(gold)
    return parse_text(str(gold))


def compare(answer: Answer, gold: Answer, rel_tol: float = DEFAULT_REL_TOL) -> tuple[bool, str]:
    """(passed, detail). The detail says why a wrong answer is wrong."""
    if answer.problem:
        return False, answer.problem
    if gold.problem:
        return False, f"gold is unusable: {gold.problem}"
    if gold.number is not None:
        if answer.number is None:
            shown = answer.flag if answer.flag is not None else answer.text
            return False, f"expected {_show(gold)}, got {shown!r}, which is not a number"
        if answer.number.denominator == 1 and gold.number.denominator == 1:
            passed = answer.number == gold.number
        else:
            passed = math.isclose(answer.number, gold.number, rel_tol=rel_tol, abs_tol=0.0) \
                or answer.number == gold.number
        return passed, "" if passed else f"expected {_show(gold)}, got {_show(answer)}"
    if gold.flag is not None:
        passed = answer.flag is not None and answer.flag == gold.flag
        return passed, "" if passed else f"expected {gold.flag}, got {_show(answer)}"
    passed = answer.text is not None and answer.text.casefold() == (gold.text or "").casefold()
    return passed, "" if passed else f"expected {gold.text!r}, got {_show(answer)}"


def _show(answer: Answer) -> str:
    if answer.number is not None:
        if answer.number.denominator == 1:
            return str(answer.number.numerator)
        return f"{float(answer.number):.6g}"
    if answer.flag is not None:
        return str(answer.flag)
    return repr(answer.text)
