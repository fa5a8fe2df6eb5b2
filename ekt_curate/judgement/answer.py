"""What one side of a comparison normalizes to: a number, a flag, text, or the reason it is none."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

# Verdicts are written as UTF-8 JSON: a lone surrogate (a program can put one in any string it
# reports) would make that write raise, so every text that reaches a verdict goes through here.
_SURROGATES = dict.fromkeys(range(0xD800, 0xE000), "\ufffd")


def clean_text(text: str, limit: int | None = None) -> str:
    """Text safe to write: lone surrogates replaced, cut to ``limit`` characters."""
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    return text.translate(_SURROGATES)


@dataclass(frozen=True)
class Answer:
    """A normalized answer: exactly one of number / text / flag / problem is set."""

    number: Fraction | None = None
    text: str | None = None
    flag: bool | None = None       # a boolean answer: never a number
    problem: str | None = None     # why it can never match (NaN, out of bounds, truncated)
    unit: str | None = None        # a unit word or currency after/before the number, normalized
    decimals: int | None = None    # the place it was rounded at: "6.70" -> 2, "1.234568e+10" -> -4; None: exact
    written_digits: int | None = None  # digits written after the point ("6.70", "1.234568e+10": 2, 6)

    def display(self) -> object:
        """A JSON-friendly value for the verdict (bounded: a number is shown with at most 30 digits)."""
        if self.number is not None:
            if self.number.denominator == 1 and abs(self.number.numerator) < 10 ** 30:
                return self.number.numerator
            return _float_or_text(self.number)
        if self.flag is not None:
            return self.flag
        return self.text


def show(answer: Answer) -> str:
    """Short text of an answer for a verdict's detail."""
    if answer.number is not None:
        if answer.number.denominator == 1 and abs(answer.number.numerator) < 10 ** 30:
            text = str(answer.number.numerator)
        else:
            text = str(_float_or_text(answer.number))
        return f"{text} {answer.unit}" if answer.unit else text
    if answer.flag is not None:
        return str(answer.flag)
    if answer.problem is not None:
        return answer.problem
    return repr(answer.text)


def _float_or_text(number: Fraction) -> object:
    # float() of a Fraction is exact-rounded and, for values beyond the float range, raises
    # OverflowError: bounded numbers (at most 4,000 digits) can still be that large.
    try:
        return float(number)
    except OverflowError:
        return f"{'-' if number < 0 else ''}a number of ~{len(str(abs(number.numerator)))} digits"
