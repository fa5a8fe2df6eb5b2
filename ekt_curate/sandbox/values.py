"""Values that cross a process boundary in a test harness: exact built-in types only, as JSON.

A function under test returns a value; the harness (another process) or the parent compares
it. What travels is data, never an object: a class with a forged ``__eq__``, an ``int``
subclass, a numpy scalar are refused where they are encoded (the program's side, which may be
bypassed) and, since the bytes are untrusted, again where they are decoded (the trusted side),
with bounds on depth, length and digits before anything is built.

    None, bool, str: JSON's own        int: a JSON integer (at most 4,300 digits)
    float: {"f": repr} (inf, nan too)  complex: {"c": [re, im]}    bytes: {"b": hex}
    list: a JSON list                  tuple: {"t": [...]}         set / frozenset: {"s"|"z": [...]}
    dict: {"d": [[key, value], ...]}   (keys any hashable value above)

Standard library only: the zygote imports this (every module it maps makes forks dearer).
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 64
MAX_ITEMS = 200_000        # nodes in one value
MAX_TEXT = 1 << 20         # characters of one str / hex digits of one bytes
MAX_INT_DIGITS = 4300      # Python's own int <-> str limit

_type, _len, _repr, _isinstance = type, len, repr, isinstance
_FLOAT_TEXT = frozenset("0123456789.e+-infa")


class NotTransferable(ValueError):
    """A value that is not made of exact built-in types, or is out of bounds."""


class Unhashed(tuple):
    """A set or a dict as ``decode(..., hashed=False)`` gives it: its members (or (key, value)
    pairs) in order, never hashed. A program chooses the ints it returns, and ints hash to
    themselves: 9,000 that all hash to 0 make building a set quadratic, in the parent."""

    kind = "set"


class Pairs(Unhashed):
    kind = "dict"


def encode(value: Any) -> str:
    """JSON text of ``value``; raises NotTransferable for anything but exact built-in types."""
    count = [0]
    return json.dumps(_encode(value, 0, count), ensure_ascii=True, separators=(",", ":"), allow_nan=False)


def _encode(value: Any, depth: int, count: list[int]) -> Any:
    count[0] += 1
    if depth > MAX_DEPTH or count[0] > MAX_ITEMS:
        raise NotTransferable(f"more than {MAX_DEPTH} levels or {MAX_ITEMS} items")
    kind = _type(value)
    if value is None or kind is bool:
        return value
    if kind is int:
        if value.bit_length() > MAX_INT_DIGITS * 3.33:
            raise NotTransferable(f"an int of more than {MAX_INT_DIGITS} digits")
        return value
    if kind is float:
        return {"f": _repr(value)}
    if kind is str:
        if _len(value) > MAX_TEXT:
            raise NotTransferable(f"a str of more than {MAX_TEXT} characters")
        return value
    if kind is complex:
        return {"c": [_repr(value.real), _repr(value.imag)]}
    if kind is bytes:
        if _len(value) * 2 > MAX_TEXT:
            raise NotTransferable(f"bytes of more than {MAX_TEXT // 2}")
        return {"b": value.hex()}
    if kind is list:
        return [_encode(item, depth + 1, count) for item in value]
    if kind is tuple:
        return {"t": [_encode(item, depth + 1, count) for item in value]}
    if kind is set or kind is frozenset:
        return {"s" if kind is set else "z": [_encode(item, depth + 1, count) for item in value]}
    if kind is dict:
        return {"d": [[_encode(k, depth + 1, count), _encode(v, depth + 1, count)] for k, v in value.items()]}
    name = getattr(kind, "__qualname__", "?")
    raise NotTransferable(f"a {name if _isinstance(name, str) else '?'} is not an exact built-in value")


def decode(text: str | bytes, hashed: bool = True) -> Any:
    """The value ``encode`` wrote; NotTransferable for anything it cannot have written. With
    ``hashed=False`` sets and dicts come back as Unhashed and Pairs (see Unhashed)."""
    if _len(text) > 64 * MAX_TEXT:
        raise NotTransferable("too long")
    try:
        raw = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting beyond any value
        raise NotTransferable(f"malformed: {exc}"[:200]) from None
    return _decode(raw, 0, [0], hashed)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _decode(raw: Any, depth: int, count: list[int], hashed: bool = True) -> Any:
    count[0] += 1
    if depth > MAX_DEPTH or count[0] > MAX_ITEMS:
        raise NotTransferable(f"more than {MAX_DEPTH} levels or {MAX_ITEMS} items")
    kind = type(raw)
    if raw is None or kind in (bool, int):
        return raw
    if kind is str:
        if len(raw) > MAX_TEXT:
            raise NotTransferable("a str out of bounds")
        return raw
    if kind is list:
        return [_decode(item, depth + 1, count, hashed) for item in raw]
    if kind is not dict or len(raw) != 1:
        raise NotTransferable(f"not a value: {str(raw)[:60]}")
    (tag, body), = raw.items()
    if tag == "f":
        return _float(body)
    if tag == "c" and type(body) is list and len(body) == 2:
        return complex(_float(body[0]), _float(body[1]))
    if tag == "b" and type(body) is str and len(body) <= MAX_TEXT:
        try:
            return bytes.fromhex(body)
        except ValueError:
            raise NotTransferable("bytes that are not hex") from None
    if type(body) is not list:
        raise NotTransferable(f"not a value: tag {tag!r}")
    if tag == "t":
        return tuple(_decode(item, depth + 1, count, hashed) for item in body)
    if not hashed and tag in ("s", "z"):
        return Unhashed(_decode(item, depth + 1, count, hashed) for item in body)
    if not hashed and tag == "d":
        if not all(type(pair) is list and len(pair) == 2 for pair in body):
            raise NotTransferable("a dict item that is not a pair")
        return Pairs((_decode(k, depth + 1, count, hashed), _decode(v, depth + 1, count, hashed)) for k, v in body)
    try:
        if tag == "s":
            return {_decode(item, depth + 1, count) for item in body}
        if tag == "z":
            return frozenset(_decode(item, depth + 1, count) for item in body)
        if tag == "d":
            if not all(type(pair) is list and len(pair) == 2 for pair in body):
                raise NotTransferable("a dict item that is not a pair")
            return {_decode(k, depth + 1, count): _decode(v, depth + 1, count) for k, v in body}
    except TypeError:  # an unhashable key or member: a list inside a set
        raise NotTransferable("an unhashable key") from None
    raise NotTransferable(f"not a value: tag {tag!r}")


def _float(text: Any) -> float:
    if type(text) is not str or len(text) > 40 or not set(text) <= _FLOAT_TEXT:
        raise NotTransferable("a float that repr() cannot have written")
    try:
        value = float(text)
    except ValueError:
        raise NotTransferable("a float that repr() cannot have written") from None
    if math.isnan(value) and text != "nan":
        raise NotTransferable("a float that repr() cannot have written")
    return value
