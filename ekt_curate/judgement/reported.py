"""Parse what a program reported (``[kind, text]`` from the sandbox) and golds, in bounded time.

Nothing here trusts the sandbox's message: a program can forge its result line, so an ``int``
may hold 5,000 digits, a ``fraction`` a zero denominator, a ``decimal`` ``1E+999999999``. Each
kind has its exact grammar and the bounds of number_text; anything else is a ``problem``, which
the judge turns into ``no_answer`` (for an answer) or a rejected line (for a gold).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction

from ekt_curate.judgement.answer import Answer, clean_text
from ekt_curate.judgement.number_text import MAX_DIGITS, MAX_TEXT_CHARS, parse_text, snap_float

_INT = re.compile(r"-?[0-9]+", re.ASCII)
_FRACTION = re.compile(r"(-?[0-9]+)/([0-9]+)", re.ASCII)
_OUT_OF_BOUNDS = f"a number with more than {MAX_DIGITS:,} digits is out of bounds"
# Python's float repr and Decimal's str: digits, a point, an exponent; nothing else.
_FLOAT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:e[-+][0-9]+)?", re.ASCII)
_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:E[-+]?[0-9]+)?", re.ASCII)


def truncated_reason(limit: int | None = None) -> str:
    if limit is None:
        return "answer truncated: the sandbox marked it cut, so it is not known whole"
    return f"answer truncated: it is longer than the {limit:,}-character limit, so it is not known whole"


def from_reported(kind: str | None, text: str | None, cut: bool = False, answer_chars: int | None = None) -> Answer:
    """The answer a sandbox result carries. The sandbox itself refuses (``no_answer``) a text
    answer or printed last line longer than ``answer_chars`` and never cuts one, so a text of
    exactly ``answer_chars`` characters is whole and is judged. ``cut`` (a sandbox that marks a
    value truncated) and a text longer than ``answer_chars`` (only a forged report can carry one)
    are never judged, since a cut can change a number's meaning ("-" then padding; "1/2" cut to "1")."""
    if kind is None or text is None:
        return Answer(problem="no answer")
    if not isinstance(text, str) or len(text) > MAX_TEXT_CHARS + 1:
        return Answer(problem="answer text is longer than any sandbox limit (a forged report)")
    if cut:
        return Answer(problem=truncated_reason())
    if kind == "str" and answer_chars is not None and len(text) > answer_chars:
        return Answer(problem=truncated_reason(answer_chars))
    if kind == "bool" and text in ("True", "False"):
        return Answer(flag=text == "True")
    if kind == "str":
        return parse_text(text, inexact=True)
    if kind in ("int", "fraction") and len(text) > 2 * MAX_DIGITS + 2:
        return Answer(problem=_OUT_OF_BOUNDS)
    if kind == "int" and _INT.fullmatch(text):
        if len(text.lstrip("-")) > MAX_DIGITS:
            return Answer(problem=_OUT_OF_BOUNDS)
        return Answer(number=Fraction(int(text)), decimals=0)
    if kind == "fraction" and (match := _FRACTION.fullmatch(text)):
        if max(len(match[1].lstrip("-")), len(match[2])) > MAX_DIGITS:
            return Answer(problem=_OUT_OF_BOUNDS)
        if int(match[2]) == 0:
            return Answer(problem=f"fraction {clean_text(text, 40)!r} has a zero denominator")
        return Answer(number=Fraction(int(match[1]), int(match[2])))
    if kind == "float" and len(text) <= 32 and _FLOAT.fullmatch(text):
        value = float(text)
        if not math.isfinite(value):
            return Answer(problem=f"{text} is not a finite number")
        return Answer(number=snap_float(Fraction(value)))
    if kind == "decimal" and _DECIMAL.fullmatch(text):
        # Same bounds as printed text (exponent length, digits written out); Decimal's own
        # exponent marker is upper case, which the text grammar accepts too.
        return parse_text(text)
    return Answer(problem=f"malformed {clean_text(str(kind), 20)} answer {clean_text(text, 40)!r}")


def from_value(value: object) -> Answer:
    """A plain Python value (int, float, Fraction, Decimal, bool, str), by the same rules."""
    if isinstance(value, bool):
        return Answer(flag=value)
    if isinstance(value, int):
        if value.bit_length() > MAX_DIGITS * 3.33:
            return Answer(problem=_OUT_OF_BOUNDS)
        return from_reported("int", str(value))
    if isinstance(value, float):
        return from_reported("float", repr(value)) if math.isfinite(value) \
            else Answer(problem=f"{value!r} is not a finite number")
    if isinstance(value, Fraction):
        if max(abs(value.numerator), value.denominator).bit_length() > MAX_DIGITS * 3.33:
            return Answer(problem=_OUT_OF_BOUNDS)
        return from_reported("fraction", f"{value.numerator}/{value.denominator}")
    if isinstance(value, Decimal):
        return from_reported("decimal", str(value)) if value.is_finite() \
            else Answer(problem=f"Decimal {value} is not a finite number")
    if isinstance(value, str):
        return from_reported("str", value)
    return Answer(problem=f"unsupported answer type {type(value).__name__}")


def parse_gold(gold: object) -> Answer:
    """Gold from a record (JSON number or text) or from a problems file. A JSON float is read
    through its repr, so ``6.67`` carries its two written decimals like the text ``"6.67"``."""
    if isinstance(gold, bool):
        return Answer(flag=gold)
    if isinstance(gold, int):
        return from_value(gold)
    if isinstance(gold, float):
        if not math.isfinite(gold):
            return Answer(problem=f"gold {gold!r} is not a finite number")
        return parse_text(repr(gold))
    if isinstance(gold, str):
        return parse_text(gold)
    return Answer(problem=f"gold of type {type(gold).__name__} is neither a number nor text")
