"""Comparing what a program printed, or returned, with a test's expected output, in the parent.

Printed output (stdin/stdout cases), ``--compare``:

    exact    equal once trailing newlines are removed from both (verl's sandbox_fusion check)
    lines    (default) each line stripped of surrounding whitespace, the whole stripped, then
             equal line by line (LiveCodeBench's stdin/stdout comparison, without its float retry)
    tokens   whitespace-separated tokens equal, or both numbers within 1e-5 absolute or
             relative error (CodeContests' float tolerance)

Return values (call-based cases): exact equality of plain values, a tuple read as a list
(JSON has no tuples) and, as APPS's harness does, an expected ``[x]`` also met by ``x``.
Booleans are not numbers here: ``True`` does not meet ``1``.
"""

from __future__ import annotations

import math
from typing import Any

from ekt_curate.judgement import clean_text

COMPARE_MODES = ("exact", "lines", "tokens")
FLOAT_TOLERANCE = 1e-5
EXCERPT_CHARS = 120


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
    try:
        a, b = float(got), float(expected)
    except ValueError:
        return False
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    return abs(a - b) <= FLOAT_TOLERANCE or abs(a - b) <= FLOAT_TOLERANCE * abs(b)


def value_matches(got: Any, expected: Any, apps: bool = False) -> bool:
    if _same(got, expected):
        return True
    return apps and isinstance(expected, list) and len(expected) == 1 and _same(got, expected[0])


def _same(got: Any, expected: Any) -> bool:
    got = _json_shaped(got)
    if isinstance(got, bool) or isinstance(expected, bool):
        return type(got) is type(expected) and got == expected
    if isinstance(got, list) and isinstance(expected, list):
        return len(got) == len(expected) and all(_same(a, b) for a, b in zip(got, expected))
    if isinstance(got, dict) and isinstance(expected, dict):
        return got.keys() == expected.keys() and all(_same(got[k], expected[k]) for k in got)
    return type(got) in (int, float, str, type(None)) and got == expected


def _json_shaped(value: Any) -> Any:
    """A return value as JSON would write it: tuples as lists, dict keys as text."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, str) else k: v for k, v in value.items()}
    return value


def excerpt(text: Any) -> str:
    return clean_text(text if isinstance(text, str) else repr(text), EXCERPT_CHARS)
