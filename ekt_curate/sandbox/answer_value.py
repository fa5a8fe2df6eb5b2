"""Turn whatever a program computed into a canonical plain value, inside the child.

The parent never receives an object, only ``[kind, text]`` with kind one of
``int``, ``float``, ``fraction``, ``decimal``, ``bool``, ``str``. Only exact
built-in types are taken as they are: an instance of a class the program wrote
(a float subclass, an object with a forged ``__eq__`` or ``__str__``) is no
answer. Numbers from trusted numeric libraries (numpy, sympy, ...: anything
registered as ``numbers.Number``) are converted here, in the child, to a
built-in number, so their own methods never run in the parent.
"""

from __future__ import annotations

import math
import numbers
import sys
from decimal import Decimal
from fractions import Fraction

# Libraries whose numeric scalars we convert; a program's own classes are never trusted.
TRUSTED_NUMERIC_MODULES = ("numpy", "sympy", "mpmath", "gmpy2", "fractions", "decimal", "builtins")
MAX_INT_DIGITS = 4000  # below CPython's int->str limit of 4300 digits
MAX_DECIMAL_EXPONENT = 999_999  # Decimal('1E+999999999') is finite, and no answer to a word problem


# Module globals shadow builtins: a program may rebind builtins.type, builtins.int or
# builtins.isinstance before its answer is encoded here, in the same process.
from builtins import bool, complex, dict, float, frozenset, getattr, int, isinstance, list, repr, set, str, tuple, type  # noqa: E402, A004


class NoAnswer(Exception):
    """The value cannot be an answer; the message says why."""


def encode(value: object, max_chars: int = 1000) -> list[str]:
    kind = type(value)
    if kind is bool:
        return ["bool", "True" if value else "False"]
    if kind is int:
        return ["int", _int_text(value)]
    if kind is float:
        if not math.isfinite(value):
            raise NoAnswer(f"answer is {value!r}, not a finite number")
        return ["float", repr(value)]
    if kind is Fraction:
        return ["fraction", f"{_int_text(value.numerator)}/{_int_text(value.denominator)}"]
    if kind is Decimal:
        if not value.is_finite():
            raise NoAnswer(f"answer is Decimal({str(value)!r}), not a finite number")
        if abs(value.adjusted()) > MAX_DECIMAL_EXPONENT:
            raise NoAnswer(f"answer is a decimal with an exponent beyond 10**±{MAX_DECIMAL_EXPONENT}")
        return ["decimal", str(value)]
    if kind is str:
        if len(value) > max_chars:  # a cut text can mean something else ("-" + padding + "5")
            raise NoAnswer(f"answer is a text of {len(value)} characters, more than the policy's "
                           f"answer_chars ({max_chars}): not judged, since a cut value could read differently")
        return ["str", value]
    if kind is complex:
        if value.imag != 0:
            raise NoAnswer("answer is a complex number with a non-zero imaginary part")
        return encode(value.real, max_chars)
    if kind in (list, tuple, dict, set, frozenset):
        raise NoAnswer(f"answer is a {kind.__name__}, not a single value")
    if value is None:
        raise NoAnswer("answer is None")
    return encode(_convert_library_number(value), max_chars)


def _int_text(value: int) -> str:
    if value.bit_length() > MAX_INT_DIGITS * 3.33:
        raise NoAnswer("answer is an integer with more than 4000 digits")
    return str(value)


def _is_library_type(kind: type) -> bool:
    """A type really defined by a trusted library: a program can set ``__module__ = "numpy"``
    on its own class, but cannot make that module's namespace hold it."""
    module_name = getattr(kind, "__module__", None)
    if not isinstance(module_name, str) or module_name.split(".")[0] not in TRUSTED_NUMERIC_MODULES:
        return False
    module = sys.modules.get(module_name)
    return module is not None and getattr(module, getattr(kind, "__name__", ""), None) is kind


def _convert_library_number(value: object) -> object:
    kind = type(value)
    if not _is_library_type(kind) or not isinstance(value, numbers.Number):
        raise NoAnswer(f"answer of type {getattr(kind, '__name__', '?')} is not a plain value")
    if isinstance(value, numbers.Integral):
        result: object = int(value)
    elif isinstance(value, numbers.Rational):
        result = Fraction(int(value.numerator), int(value.denominator))
    elif isinstance(value, numbers.Real):
        result = float(value)
    elif isinstance(value, numbers.Complex):
        result = complex(value)
    else:
        raise NoAnswer(f"answer of type {kind.__name__} is not a real number")
    if type(result) not in (int, float, complex, Fraction):
        raise NoAnswer(f"answer of type {kind.__name__} did not convert to a built-in number")
    return result


def decode(kind: str, text: str) -> object:
    """Parent side: the plain value back, with no eval and no library types."""
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "fraction":
        num, den = text.split("/")
        return Fraction(int(num), int(den))
    if kind == "decimal":
        return Decimal(text)
    if kind == "bool":
        return text == "True"
    if kind == "str":
        return text
    raise ValueError(f"unknown answer kind {kind!r}")
