"""Words after a number: which are units of measure, and how a unit is written canonically.

A word after a number either labels it (``18 dollars``, ``15 hours``) or changes what it means
(``42 squared``, ``42 tenths``, ``42 dozen``, ``42 bps``, ``42 below``). No list of the second kind
can be complete, so the rule is an allow list of the first (issue 22):

- against a gold **without** a unit, an answer's word counts only if it is a unit of measure
  listed here (money, time, length, mass, volume, speed, area, temperature, percent); any other
  word (``42 squared``, ``42 apples``) makes the answer fail, with a detail that says so;
- against a gold **with** a word (``72 clips``, ``72 \\text{ clips}``), the answer's word must be
  that same word (canonically), listed here or not, or absent.

So a word outside this list can pass only by being the gold's own word. Counting nouns
(``42 apples``) are not units: a program that prints them passes only a gold that says the same.
Ambiguous words are left out on purpose: ``quarters`` (coins, or fourths), ``mm`` (``MM`` is a
million in finance), ``in`` (a preposition), ``tn`` (ton, or trillion), ``bps``/``ppm`` (scaled
parts of a whole).
"""

from __future__ import annotations

# canonical unit -> the ways it is written (case-insensitive; a final "." is dropped first)
_UNITS: dict[str, tuple[str, ...]] = {
    "%": ("%", "percent", "percents", "pct"),
    # money
    "dollar": ("dollar", "dollars", "usd", "buck", "bucks"), "cent": ("cent", "cents"),
    "euro": ("euro", "euros", "eur"), "pound": ("pound", "pounds", "lb", "lbs", "gbp"),
    "yen": ("yen", "jpy"), "rupee": ("rupee", "rupees", "inr"), "yuan": ("yuan", "rmb"),
    "peso": ("peso", "pesos"), "franc": ("franc", "francs"),
    # time
    "second": ("second", "seconds", "sec", "secs"), "minute": ("minute", "minutes", "min", "mins"),
    "hour": ("hour", "hours", "hr", "hrs"), "day": ("day", "days"), "week": ("week", "weeks", "wk", "wks"),
    "month": ("month", "months"), "year": ("year", "years", "yr", "yrs"), "decade": ("decade", "decades"),
    "century": ("century", "centuries"),
    # length
    "millimeter": ("millimeter", "millimeters", "millimetre", "millimetres"),
    "centimeter": ("centimeter", "centimeters", "centimetre", "centimetres", "cm"),
    "meter": ("meter", "meters", "metre", "metres"),
    "kilometer": ("kilometer", "kilometers", "kilometre", "kilometres", "km"),
    "inch": ("inch", "inches"), "foot": ("foot", "feet", "ft"), "yard": ("yard", "yards", "yd", "yds"),
    "mile": ("mile", "miles"),
    # mass
    "gram": ("gram", "grams"), "kilogram": ("kilogram", "kilograms", "kg", "kgs"),
    "milligram": ("milligram", "milligrams", "mg"), "ounce": ("ounce", "ounces", "oz"),
    "ton": ("ton", "tons"), "tonne": ("tonne", "tonnes"),
    # volume
    "liter": ("liter", "liters", "litre", "litres"),
    "milliliter": ("milliliter", "milliliters", "millilitre", "millilitres", "ml"),
    "gallon": ("gallon", "gallons", "gal"), "quart": ("quart", "quarts", "qt"), "pint": ("pint", "pints"),
    "cup": ("cup", "cups"), "tablespoon": ("tablespoon", "tablespoons", "tbsp"),
    "teaspoon": ("teaspoon", "teaspoons", "tsp"),
    # speed, area, temperature
    "mph": ("mph",), "kph": ("kph", "kmh"), "acre": ("acre", "acres"), "hectare": ("hectare", "hectares"),
    "degree": ("degree", "degrees"),
}
_CANONICAL = {written: unit for unit, forms in _UNITS.items() for written in forms}
MEASURE_UNITS = frozenset(_UNITS)


def canonical_unit(word: str) -> str:
    """``Hours.`` -> ``hour``, ``lbs`` -> ``pound``, ``percent`` -> ``%``; a word not listed
    (a counting noun, the gold's own word) is casefolded with a final dot and a plural ``s``
    dropped, so ``Clips.`` and ``clip`` are one word."""
    word = word.casefold().rstrip(".")
    if word in _CANONICAL:
        return _CANONICAL[word]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word


def is_measure(unit: str) -> bool:
    """Whether a canonical unit labels a number without changing it (see the module docstring)."""
    return unit in MEASURE_UNITS
