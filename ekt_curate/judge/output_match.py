"""Comparing what a program printed, or returned, with a test's expected output, in the parent.

Printed output (stdin/stdout cases), ``--compare``:

    exact    equal once trailing newlines are removed from both (verl's sandbox_fusion check)
    lines    (default) each line stripped of surrounding whitespace, the whole stripped, then
             equal line by line (LiveCodeBench's stdin/stdout comparison, without its float retry)
    tokens   whitespace-separated tokens equal, or, where the expected token is a decimal
             number (a point or an exponent), both within 1e-5 absolute or relative error
             (CodeContests' float tolerance); integers compare exactly

Return values (call-based cases): exact equality of plain values, a tuple read as a list
(JSON has no tuples) and, as APPS's harness does, an expected ``[x]`` also met by ``x``.
Booleans are not numbers here: ``True`` does not meet ``1``.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ekt_curate.judgement import clean_text
from ekt_curate.sandbox.values import Pairs, Unhashed

COMPARE_MODES = ("exact", "lines", "tokens")
FLOAT_TOLERANCE = 1e-5
EXCERPT_CHARS = 120
_DECIMAL = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+(?:\.\d*)?[eE][-+]?\d+|\d+\.\d*[eE][-+]?\d+)")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def output_matches(got: str, expected: str, mode: str = "lines") -> bool:
    if mode == "exact":
        return got.rstrip("\n") == expected.rstrip("\n")
    if mode == "lines":
        return [line.strip() for line in got.strip().splitlines()] == \
            [line.strip() for line in expected.strip().splitlines()]
    if mode == "tokens":
        mine, theirs = got.split(), expected.split()
        return len(mine) == len(theirs) and all(_token_matches(a, b) for a, b in zip(mine, theirs))
    raise ValueError(f"unknown comparison {mode!r}: use {', '.join(COMPARE_MODES)}")


def _token_matches(got: str, expected: str) -> bool:
    if got == expected:
        return True
    # only a decimal expected output has a tolerance (1000009 is not 1000000), and only the plain
    # number grammar counts (float() would also read "1_000", "inf" and "nan")
    if not _DECIMAL.fullmatch(expected) or not _NUMBER.fullmatch(got):
        return False
    a, b = float(got), float(expected)
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    return abs(a - b) <= FLOAT_TOLERANCE or abs(a - b) <= FLOAT_TOLERANCE * abs(b)


def value_matches(got: Any, expected: Any, apps: bool = False) -> bool:
    if _same(got, expected):
        return True
    return apps and isinstance(expected, list) and len(expected) == 1 and _same(got, expected[0])


def _same(got: Any, expected: Any) -> bool:
    if isinstance(got, Pairs):  # a returned dict, never hashed as the program built it
        return isinstance(expected, dict) and _same_pairs(got, expected)
    if isinstance(got, Unhashed):
        return False  # a set: JSON has none, so no expected output is one
    got = _json_shaped(got)
    if isinstance(got, bool) or isinstance(expected, bool):
        return type(got) is type(expected) and got == expected
    if isinstance(got, list) and isinstance(expected, list):
        return len(got) == len(expected) and all(_same(a, b) for a, b in zip(got, expected))
    if isinstance(got, dict) and isinstance(expected, dict):
        return got.keys() == expected.keys() and all(_same(got[k], expected[k]) for k in got)
    return type(got) in (int, float, str, type(None)) and got == expected


def _same_pairs(got: Pairs, expected: dict) -> bool:
    """As JSON writes a dict: its keys as text (strings hash with this process's random seed)."""
    keyed = {}
    for key, value in got:
        text = _json_key(key)
        if text is None or text in keyed:
            return False
        keyed[text] = value
    return keyed.keys() == expected.keys() and all(_same(keyed[k], expected[k]) for k in keyed)


def _json_key(key: Any) -> str | None:
    if isinstance(key, str):
        return key
    if isinstance(key, bool) or key is None:
        return {True: "true", False: "false", None: "null"}[key]
    if isinstance(key, (int, float)):
        return repr(key)
    return None


def _json_shaped(value: Any) -> Any:
    """A return value as JSON would write it: tuples as lists, dict keys as text."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, str) else k: v for k, v in value.items()}
    return value


def excerpt(text: Any) -> str:
    return clean_text(text if isinstance(text, str) else repr(text), EXCERPT_CHARS)
