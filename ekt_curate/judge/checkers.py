"""How an answer is compared with gold once both are parsed: the strict rules, or math-verify
consulted only where the strict rules cannot decide (ekt_curate/judgement/math_verify.py)."""

from __future__ import annotations

import math

from ekt_curate.errors import EktError
from ekt_curate.judgement import Answer, compare
from ekt_curate.judgement.compare import DEFAULT_REL_TOL, GOLD_PRECISION_MODES

CHECKERS = ("strict", "math-verify")


class Checker:
    name = "strict"

    def __init__(self, rel_tol: float = DEFAULT_REL_TOL, gold_precision: str = "auto"):
        self.rel_tol, self.gold_precision = rel_tol, gold_precision

    def check(self, answer: Answer, gold: Answer, answer_text: str, gold_raw: object) -> tuple[bool, str]:
        return compare(answer, gold, self.rel_tol, self.gold_precision)

    def close(self) -> None:
        pass


def make_checker(name: str, rel_tol: float = DEFAULT_REL_TOL, gold_precision: str = "auto") -> Checker:
    if name == "strict":
        return Checker(rel_tol, gold_precision)
    if name == "math-verify":
        from ekt_curate.judgement.math_verify import MathVerifyChecker

        return MathVerifyChecker(rel_tol, gold_precision)
    raise ValueError(f"unknown checker {name!r}: use strict or math-verify")


def check_options(rel_tol: float, gold_precision: str, checker: str) -> None:
    """One line (EktError, exit 2) for a bad judging option, before any work: not a traceback mid-run."""
    if not (isinstance(rel_tol, (int, float)) and math.isfinite(rel_tol) and 0 <= rel_tol < 1):
        raise EktError(f"--rel-tol must be a number from 0 up to (not including) 1, got {rel_tol!r}")
    if gold_precision not in GOLD_PRECISION_MODES:
        raise EktError(f"--gold-precision must be one of {', '.join(GOLD_PRECISION_MODES)}, got {gold_precision!r}")
    if checker not in CHECKERS:
        raise EktError(f"--checker must be one of {', '.join(CHECKERS)}, got {checker!r}")
