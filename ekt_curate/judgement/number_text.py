"""The number grammar: exactly what text is read as a number, with hard bounds.

Accepted (everything else is text, which matches only text):
- surrounding whitespace; a sign ``-``, ``+`` or the unicode minus ``−``;
- a currency sign ``$ € £ ¥ ₹`` before or after the sign (it counts as a unit: ``$5`` is 5 dollar);
- ASCII digits only (``\\d`` would take Arabic-Indic or full-width digits), optionally in
  thousands groups ``1,234,567`` (first group 1-3 digits without a leading zero, then groups of
  exactly 3: ``0,042`` is 0.042 with a decimal comma, so it is text, never 42);
- a decimal part ``.5``, ``2.50``; an exponent ``e``/``E`` (``1e-05``, ``4.2E1``, ``2.0107e-06``:
  Python's float repr) on a number without thousands separators. Written precision: ``6.70`` has
  2 decimals; ``1.234568e+10`` (as ``%e`` writes a float) is rounded to its 7 significant digits,
  i.e. to 10**4; ``1e-05`` (no digits after a point) carries none;
- a fraction ``a/b`` or a mixed number ``1 1/2`` only when written in lowest terms without
  leading zeros: ``3/4`` is a fraction, ``10/05`` and ``02/01`` (dates) and ``10/5`` are text;
- after the number, a ``%`` or ONE word of two or more ASCII letters, kept as the answer's unit
  (``15 hours``, ``18 dollars``; whether a word may stand there is the checker's rule, units.py);
  a scale word (``5 million``, ``3 dozen``) or a one-letter suffix (``5k``, ``3j``) is text, never
  the bare number;
- ``True``/``False`` are flags; ``nan``/``inf`` are never numbers.

Bounds, checked before any arithmetic: at most 5,000 characters of text, and a value that
written out in positional notation needs at most 4,000 digits (so ``1E+999999999`` is out of
bounds at once instead of building a billion-digit integer).
"""

from __future__ import annotations

import re
from fractions import Fraction
from math import gcd

from ekt_curate.judgement.answer import Answer, clean_text
from ekt_curate.judgement.units import canonical_unit

MAX_TEXT_CHARS = 5000
MAX_DIGITS = 4000           # below CPython's 4,300-digit int<->str limit, equal to the child's int limit
MAX_EXPONENT_CHARS = 6      # an exponent's digits are bounded before int() is called on them
SNAP_ABS, SNAP_REL, SNAP_CAP = 1e-9, 1e-12, Fraction(1, 2048)  # float noise: see snap_float

_CURRENCY_UNITS = {"$": "dollar", "€": "euro", "£": "pound", "¥": "yen", "₹": "rupee"}
# A number with one of these after it is not that number: "5 million" must never equal gold 5.
SCALE_WORDS = frozenset({
    "hundred", "thousand", "million", "billion", "trillion", "quadrillion", "lakh", "crore", "dozen",
    "score", "gross", "grand", "bn", "mn", "mil", "mill", "mio", "mln", "bln", "thou", "kilo",
})
_NON_FINITE = frozenset({"nan", "-nan", "+nan", "inf", "-inf", "+inf", "infinity", "-infinity", "+infinity"})

_NUMBER = re.compile(
    r"""(?P<cur1>[$€£¥₹])?\ *(?P<sign>[-+\u2212])?\ *(?P<cur2>[$€£¥₹])?\ *
    (?:
        (?P<whole>[1-9][0-9]*)\ +(?P<mnum>[1-9][0-9]*)/(?P<mden>[1-9][0-9]*)     # mixed number
      | (?P<num>0|[1-9][0-9]*)/(?P<den>[1-9][0-9]*)                               # fraction
      | (?P<grouped>[1-9][0-9]{0,2}(?:,[0-9]{3})+)(?:\.(?P<gfrac>[0-9]+))?        # 1,234.5
      | (?P<int>[0-9]+)?(?:\.(?P<frac>[0-9]+))?(?:[eE](?P<exp>[-+]?[0-9]+))?      # 12, .5, 2.50, 1e-05
    )
    \ *(?P<unit>%|[A-Za-z]{2,}\.?)?""",
    re.VERBOSE | re.ASCII,
)


def parse_text(text: str, inexact: bool = False) -> Answer:
    """Read text by the grammar above. ``inexact`` marks printed output, whose decimals may be
    float noise (``0.30000000000000004``) and get the same snap as a float answer."""
    if len(text) > MAX_TEXT_CHARS:
        return Answer(problem=f"text of {len(text):,} characters is longer than {MAX_TEXT_CHARS:,}")
    stripped = clean_text(text).strip()
    if stripped in ("True", "False"):
        return Answer(flag=stripped == "True")
    if stripped.lower() in _NON_FINITE:
        return Answer(problem=f"{stripped!r} is not a finite number")
    match = _NUMBER.fullmatch(stripped)
    if not match or not (match["whole"] or match["num"] or match["grouped"] or match["int"] or match["frac"]):
        return Answer(text=" ".join(stripped.split()))
    unit = _unit(match)
    if unit is None:
        return Answer(text=" ".join(stripped.split()))
    negative = match["sign"] in ("-", "\u2212")
    try:
        number, decimals, written = _value(match)
    except _OutOfBounds as exc:
        return Answer(problem=str(exc))
    if number is None:
        return Answer(text=" ".join(stripped.split()))
    if negative:
        number = -number
    if inexact and written and len(((match["int"] or "") + (match["frac"] or "")).lstrip("0")) <= 17:
        # Only what could be a float's repr (at most 17 significant digits) carries float noise;
        # a longer printed decimal is exact (Decimal, str) and is judged as written.
        number = snap_float(number)
    return Answer(number=number, unit=unit or None, decimals=decimals, written_digits=written)


def snap_float(number: Fraction) -> Fraction:
    """A value within float noise of an integer is that integer. The noise grows with the
    magnitude (``1e9 / 3 * 3``; cancellation between large terms), so the margin is 1e-9
    absolute or 1e-12 of the value, whichever is larger, but never more than 1/2048: a quarter,
    a tenth or a thousandth is never noise, at any magnitude (issue 17: with no cap,
    ``v + 0.25`` met an integral gold ``v`` above 2.5e11)."""
    nearest = round(number)
    margin = min(max(Fraction(SNAP_ABS), Fraction(SNAP_REL) * abs(nearest)), SNAP_CAP)
    return Fraction(nearest) if abs(number - nearest) <= margin else number


class _OutOfBounds(Exception):
    pass


def _unit(match: re.Match[str]) -> str | None:
    """'' for no unit, the normalized unit, or None when the suffix makes this text."""
    if match["cur1"] and match["cur2"]:
        return None
    currency = _CURRENCY_UNITS.get(match["cur1"] or match["cur2"] or "", "")
    word = canonical_unit(match["unit"]) if match["unit"] else ""
    if word in SCALE_WORDS:
        return None
    if currency and word and word != currency:
        return None  # "$5 euros"
    return currency or word


def _digits(text: str) -> int:
    if len(text) > MAX_DIGITS:
        raise _OutOfBounds(f"a number with more than {MAX_DIGITS:,} digits is out of bounds")
    return int(text)


def _value(match: re.Match[str]) -> tuple[Fraction | None, int | None, int | None]:
    """(value, decimals, written digits); value None when slash text is not a fraction by the rule.
    ``decimals`` is the place the value was rounded at (|x - value| <= 0.5 * 10**-decimals), and
    ``written digits`` how many digits follow the point (the gold-precision rule needs a few)."""
    if match["whole"]:
        whole, num, den = _digits(match["whole"]), _digits(match["mnum"]), _digits(match["mden"])
        if num >= den or gcd(num, den) != 1:
            return None, None, None
        return whole + Fraction(num, den), None, None
    if match["num"]:
        num, den = _digits(match["num"]), _digits(match["den"])
        if gcd(num, den) != 1:  # "10/5", "0/5": not in lowest terms, so not read as a fraction
            return None, None, None
        return Fraction(num, den), None, None
    if match["grouped"]:
        number, decimals = _scaled(match["grouped"].replace(",", ""), match["gfrac"] or "", "0")
        return number, decimals, len(match["gfrac"] or "") or None
    fraction = match["frac"] or ""
    number, decimals = _scaled(match["int"] or "", fraction, match["exp"] or "0")
    if match["exp"] and not fraction:
        # "1e-05" is how Python prints a float's shortest exact repr, not a rounding: no precision
        return number, None, None
    # "6.70": 2 decimals. "1.234568e+10" (as %e writes a float) is rounded to its significant
    # digits: to the place of its last mantissa digit, 10**4 here (decimals -4), 6 written digits.
    return number, decimals, len(fraction) or None


def _scaled(integer: str, fraction: str, exponent: str) -> tuple[Fraction, int]:
    """(int.frac * 10**exp exactly, the place of its last written digit as a number of decimals:
    negative for ``1.5e3``), after checking how many digits the result would need."""
    if len(exponent.lstrip("+-")) > MAX_EXPONENT_CHARS:
        raise _OutOfBounds(f"an exponent of more than {MAX_EXPONENT_CHARS} digits is out of bounds")
    mantissa = (integer + fraction).lstrip("0")
    scale = int(exponent) - len(fraction)          # value = int(mantissa) * 10**scale
    if len(mantissa) > MAX_DIGITS:
        raise _OutOfBounds(f"a number with more than {MAX_DIGITS:,} digits is out of bounds")
    if not mantissa:
        return Fraction(0), min(-scale, MAX_DIGITS)
    if len(mantissa) + max(scale, 0) > MAX_DIGITS or -scale > MAX_DIGITS:
        raise _OutOfBounds(f"a number that needs more than {MAX_DIGITS:,} digits written out is out of bounds")
    value = int(mantissa)
    number = Fraction(value * 10 ** scale) if scale >= 0 else Fraction(value, 10 ** -scale)
    return number, -scale
