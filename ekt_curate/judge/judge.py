"""The Judge: samples in, verdicts out, in order, with every sandbox worker busy.

A sample is judged against a gold answer (the checkers) or against tests (code_tests.py):
assert tests and calls in one harness job, stdin/stdout cases one job each, where the cases
after one known to have failed are not run (stopping at the first failure, the default).
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ekt_curate.judge.case_verdict import case_verdict
from ekt_curate.judge.checkers import make_checker
from ekt_curate.judge.code_tests import CodeTests
from ekt_curate.judge.gold import Gold
from ekt_curate.judge.output_match import COMPARE_MODES, output_matches
from ekt_curate.judge.verdict import failed, verdict_of
from ekt_curate.judgement import clean_text
from ekt_curate.judgement.compare import DEFAULT_REL_TOL
from ekt_curate.sandbox import Status
from ekt_curate.sandbox.program import Call, Program
from ekt_curate.sandbox.program_text import extract_program


@dataclass(frozen=True)
class Sample:
    program: str      # the completion's text; the code is taken out of it as the sandbox does
    gold: Gold | None = None
    task: str = ""    # for the once-per-task warning about text golds
    tests: CodeTests | None = None  # a code sample: judged by its tests, not a gold


@dataclass
class _Pending:
    sample: Sample
    early: dict[str, object] | None  # the verdict of a sample that is not run
    submitted: int = 0
    done: bool = False                # every job it will have is submitted
    failed: bool = False              # a case is known to have failed (later stdin cases are skipped)
    results: list[Any] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.done and len(self.results) == self.submitted


class Judge:
    """Turns samples into verdicts: the one place that decides, for verify, the reward and eval.

    ``sandbox`` is an ekt_curate Sandbox (started on first use if it is not); its owner closes
    it. ``close()`` stops the checker's helper process, if it has one.
    """

    def __init__(self, sandbox: Any, checker: str = "strict", rel_tol: float = DEFAULT_REL_TOL,
                 gold_precision: str = "auto", warn: Callable[[str], None] | None = None, compare: str = "lines",
                 all_cases: bool = False, case_seconds: float | None = None):
        if compare not in COMPARE_MODES:
            raise ValueError(f"unknown comparison {compare!r}: use {', '.join(COMPARE_MODES)}")
        self.sandbox = sandbox
        self.checker = make_checker(checker, rel_tol, gold_precision)
        self.warn = warn
        self.compare, self.all_cases, self.case_seconds = compare, all_cases, case_seconds
        self.gold_not_numeric: set[str] = set()  # tasks whose gold is text while their answers are numbers

    def verdicts(self, samples: Iterable[Sample]) -> Iterator[dict[str, object]]:
        """One verdict per sample, in order. A sample without a program, a usable gold or tests is not run."""
        pending: deque[_Pending] = deque()

        def programs() -> Iterator[str | Program]:
            for sample in samples:
                entry = _Pending(sample, self._without_running(sample))
                pending.append(entry)
                if entry.early is None:
                    for job in self._jobs(entry):
                        entry.submitted += 1
                        yield job
                entry.done = True

        for result in self.sandbox.map(programs()):
            # results come in submission order: this one is the first sample's still owed one
            entry = next(entry for entry in pending if len(entry.results) < entry.submitted)
            entry.results.append(result)
            entry.failed = entry.failed or self._failed_case(entry, result)
            while pending and pending[0].ready:
                yield self._finish(pending.popleft())
        while pending:  # after the last program run
            yield self._finish(pending.popleft())

    def _jobs(self, entry: _Pending) -> Iterator[str | Program]:
        sample, tests = entry.sample, entry.sample.tests
        if tests is None:
            yield sample.program
            return
        code = tests.prefix + extract_program(sample.program)
        if tests.kind == "asserts":
            yield Program(code, tests=tests.cases, setup=tests.setup, entry=tests.entry, all_cases=self.all_cases,
                          case_seconds=self.case_seconds)
        elif tests.kind == "calls":
            assert tests.function is not None
            yield Program(code, calls=tuple(Call(tests.function, args) for args, _ in tests.cases),
                          case_seconds=self.case_seconds)
        else:
            for stdin, expected in tests.cases:
                if entry.failed and not self.all_cases:
                    return  # a case already failed: the rest cannot change the verdict
                if tests.checker:  # judged by the dataset's checker, in the harness (expected goes there)
                    yield Program(code, stdin=stdin.encode("utf-8", "surrogatepass"), checker=tests.checker,
                                  expected=expected, case_seconds=self.case_seconds)
                else:
                    yield Program(code, stdin=stdin.encode("utf-8", "surrogatepass"), output=True)

    def _failed_case(self, entry: _Pending, result: Any) -> bool:
        tests = entry.sample.tests
        if tests is None or tests.kind != "stdio":
            return False
        expected = tests.cases[len(entry.results) - 1][1]
        if tests.checker:
            return result.status is not Status.OK or not result.cases or result.cases[0][0] != "pass"
        return result.status is not Status.OK or not output_matches(result.stdout or "", expected, self.compare)

    def _finish(self, entry: _Pending) -> dict[str, object]:
        if entry.early is not None:
            return entry.early
        if entry.sample.tests is not None:
            return case_verdict(entry.sample.tests, entry.results, self.compare, self.all_cases)
        return self._verdict(entry.results[0], entry.sample)

    def _without_running(self, sample: Sample) -> dict[str, object] | None:
        if sample.tests is None and (sample.gold is None or not sample.gold.usable):
            return failed("bad_gold", str(sample.gold.problem if sample.gold else "no gold and no tests"))
        if not extract_program(sample.program).strip():
            return failed("no_program", "the completion holds no program (it is empty)")
        return None

    def _verdict(self, result: Any, sample: Sample) -> dict[str, object]:
        assert sample.gold is not None
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

    def through(self, sandbox: Any, all_cases: bool | None = None) -> "Judge":
        """The same judge (settings, checker, warnings) running its programs through another
        sandbox: a server gives each request its own view of one shared sandbox."""
        judge = copy.copy(self)
        judge.sandbox = sandbox
        if all_cases is not None:
            judge.all_cases = all_cases
        return judge

    def close(self) -> None:
        self.checker.close()
