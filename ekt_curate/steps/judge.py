"""Compare each program's answer with gold: the verdict."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ekt_curate.answers import compare, from_value, parse_gold
from ekt_curate.sandbox import Status
from ekt_curate.steps.base import Item, StepStats


class JudgeAnswers:
    def __init__(self, rel_tol: float):
        self.rel_tol = rel_tol
        self.stats = StepStats("judge")

    def __call__(self, items: Iterable[Item]) -> Iterator[Item]:
        for item in items:
            before = item.reject is not None
            if not before:
                item.verdict = self.verdict(item)
            yield self.stats.count(item, before)

    def verdict(self, item: Item) -> dict[str, object]:
        result = item.result
        answer = None
        if result.status is Status.OK:
            normalized = from_value(result.answer)
            passed, detail = compare(normalized, parse_gold(item.gold), self.rel_tol)
            status = "pass" if passed else "wrong_answer"
            answer = normalized.display()
        else:
            passed, status, detail = False, result.status.value, result.detail
        return {"status": status, "passed": passed, "answer": answer, "detail": detail,
                "cpu_ms": round(result.cpu_ms, 1), "wall_ms": round(result.wall_ms, 1), "line": item.line}
