"""Compare each program's answer with gold: the verdict.

Everything a result carries is untrusted (a program can forge its report): the answer is parsed
with hard bounds (ekt_curate.judgement), so a hostile value is that sample's ``no_answer`` with a
reason, never an exception that stops the run. A gold out of bounds rejects its line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ekt_curate.judgement import Answer, clean_text, compare, from_reported, parse_gold
from ekt_curate.judgement.compare import DEFAULT_REL_TOL
from ekt_curate.sandbox import Status
from ekt_curate.steps.base import Item, StepStats
from ekt_curate.steps.explain_failure import explain

STDERR_LINES, STDERR_CHARS = 5, 400  # the excerpt a failed verdict carries
DETAIL_CHARS = 300


def stderr_excerpt(stderr: str) -> str:
    """The last few non-empty lines of a program's stderr, capped: why it failed, at a glance."""
    lines = [line.rstrip() for line in (stderr or "").splitlines() if line.strip()]
    text = "\n".join(lines[-STDERR_LINES:])
    if len(text) > STDERR_CHARS:
        text = "…" + text[-STDERR_CHARS:]
    return clean_text(text)


CHECKERS = ("strict", "math-verify")


class Checker:
    """How an answer is compared with gold once both are parsed: the strict rules, or a
    richer checker (math-verify) consulted only where the strict rules cannot decide."""

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


def judge(result: Any, gold: Answer, gold_raw: object, checker: Checker,
          answer_chars: int | None = None) -> dict[str, object]:
    """The verdict fields for one sandbox result and its parsed gold (known to be usable)."""
    answer_value: object = None
    flags: dict[str, object] = {}
    if result.status is Status.OK:
        answer = from_reported(result.answer_kind, result.answer_text,
                               cut=bool(getattr(result, "truncated", False)), answer_chars=answer_chars)
        if answer.problem:
            passed, status, detail = False, "no_answer", answer.problem
        else:
            passed, detail = checker.check(answer, gold, result.answer_text, gold_raw)
            status = "pass" if passed else "wrong_answer"
            answer_value = answer.display()
            if isinstance(answer_value, str):
                answer_value = clean_text(answer_value, DETAIL_CHARS)
            # only the strict checker cannot compare a text gold with a number; math-verify does
            if not passed and checker.name == "strict" and gold.text is not None and answer.number is not None:
                flags["gold_not_numeric"] = True
    else:
        passed, status, detail = False, result.status.value, result.detail
    verdict: dict[str, object] = {"status": status, "passed": passed, "answer": answer_value,
                                  "detail": clean_text(detail or "", DETAIL_CHARS),
                                  "cpu_ms": round(result.cpu_ms, 1), "wall_ms": round(result.wall_ms, 1)}
    if not passed:
        verdict["stderr"] = stderr_excerpt(result.stderr_tail)
    verdict.update(flags)
    return verdict


class JudgeAnswers:
    def __init__(self, rel_tol: float = DEFAULT_REL_TOL, gold_precision: str = "auto", checker: str = "strict",
                 answer_chars: int | None = None, warn: Callable[[str], None] | None = None, policy: Any = None):
        self.checker = make_checker(checker, rel_tol, gold_precision)
        self.answer_chars = answer_chars
        self.policy = policy  # the sandbox's Policy: lets a failed import name the policy that allows it
        self.warn = warn
        self.stats = StepStats("judge")
        self.gold_not_numeric: set[str] = set()  # tasks whose gold is text while their answers are numbers

    def __call__(self, items: Iterable[Item]) -> Iterator[Item]:
        for item in items:
            before = item.reject is not None
            if not before:
                self._judge(item)
            yield self.stats.count(item, before)

    def _judge(self, item: Item) -> None:
        gold = parse_gold(item.gold)
        if gold.problem:
            item.rejected(f"bad gold: {clean_text(gold.problem, DETAIL_CHARS)}")
            return
        verdict = judge(item.result, gold, item.gold, self.checker, self.answer_chars)
        verdict["line"] = item.line
        if item.choice is not None:
            verdict["choice"] = item.choice
        if not verdict["passed"] and (why := explain(str(verdict["status"]), str(verdict["detail"]),
                                                     item.result.stderr_tail or "", item.program or "", self.policy)):
            # The cause last and whole (the detail is capped), after the sandbox's own words, so
            # stats still groups failures by exception type or by the sandbox's detail.
            room = DETAIL_CHARS - len(why) - 3  # ": " and a cut's "…"
            verdict["detail"] = f"{clean_text(str(verdict['detail']), max(room, 20))}: {why}"
        item.verdict = verdict
        if verdict.get("gold_not_numeric") and item.task_id not in self.gold_not_numeric:
            self.gold_not_numeric.add(item.task_id)
            if len(self.gold_not_numeric) == 1 and self.warn:
                self.warn(f"task {clean_text(item.task_id, 80)!r}: gold {clean_text(str(item.gold), 80)!r} is not a "
                          f"number, but its answers are (e.g. {verdict['answer']!r}): such tasks can never pass "
                          f"with --checker {self.checker.name}; see gold_not_numeric in stats "
                          f"(LaTeX golds: --checker math-verify)")

    def close(self) -> None:
        self.checker.close()
