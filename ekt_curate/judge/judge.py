"""The Judge: samples in, verdicts out, in order, with every sandbox worker busy."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ekt_curate.judge.checkers import make_checker
from ekt_curate.judge.gold import Gold
from ekt_curate.judge.verdict import failed, verdict_of
from ekt_curate.judgement import clean_text
from ekt_curate.judgement.compare import DEFAULT_REL_TOL
from ekt_curate.sandbox.program_text import extract_program


@dataclass(frozen=True)
class Sample:
    program: str      # the completion's text; the code is taken out of it as the sandbox does
    gold: Gold
    task: str = ""    # for the once-per-task warning about text golds


class Judge:
    """Turns samples into verdicts: the one place that decides, for verify, the reward and eval.

    ``sandbox`` is an ekt_curate Sandbox (started on first use if it is not); its owner closes
    it. ``close()`` stops the checker's helper process, if it has one.
    """

    def __init__(self, sandbox: Any, checker: str = "strict", rel_tol: float = DEFAULT_REL_TOL,
                 gold_precision: str = "auto", warn: Callable[[str], None] | None = None):
        self.sandbox = sandbox
        self.checker = make_checker(checker, rel_tol, gold_precision)
        self.warn = warn
        self.gold_not_numeric: set[str] = set()  # tasks whose gold is text while their answers are numbers

    def verdicts(self, samples: Iterable[Sample]) -> Iterator[dict[str, object]]:
        """One verdict per sample, in order. A sample without a program or a usable gold is not run."""
        pending: deque[tuple[Sample, dict[str, object] | None]] = deque()

        def programs() -> Iterator[str]:
            for sample in samples:
                early = self._without_running(sample)
                pending.append((sample, early))
                if early is None:
                    yield sample.program

        for result in self.sandbox.map(programs()):
            while pending[0][1] is not None:
                yield pending.popleft()[1]  # type: ignore[misc]
            sample, _ = pending.popleft()
            yield self._verdict(result, sample)
        while pending:  # after the last program run
            yield pending.popleft()[1]  # type: ignore[misc]

    def _without_running(self, sample: Sample) -> dict[str, object] | None:
        if not sample.gold.usable:
            return failed("bad_gold", str(sample.gold.problem))
        if not extract_program(sample.program).strip():
            return failed("no_program", "the completion holds no program (it is empty)")
        return None

    def _verdict(self, result: Any, sample: Sample) -> dict[str, object]:
        policy = self.sandbox.policy
        verdict = verdict_of(result, sample.gold, sample.program, self.checker, policy.limits.answer_chars, policy)
        if verdict.get("gold_not_numeric") and sample.task not in self.gold_not_numeric:
            self.gold_not_numeric.add(sample.task)
            if len(self.gold_not_numeric) == 1 and self.warn:
                self.warn(f"task {clean_text(sample.task, 80)!r}: gold {clean_text(str(sample.gold.value), 80)!r} "
                          f"is not a number, but its answers are (e.g. {verdict['answer']!r}): such tasks can never "
                          f"pass with --checker {self.checker.name}; see gold_not_numeric in stats "
                          f"(LaTeX golds: --checker math-verify)")
        return verdict

    def close(self) -> None:
        self.checker.close()
