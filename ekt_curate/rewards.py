"""The verifier as a reward, for reinforcement learning from verifiable rewards (TRL's GRPOTrainer).

    from ekt_curate.rewards import VerifiedAnswerReward
    reward = VerifiedAnswerReward(policy="default")          # one warm sandbox, reused every step
    trainer = GRPOTrainer(model=..., reward_funcs=[reward], train_dataset=dataset_with_a_gold_column, ...)

GRPOTrainer calls a reward function with ``prompts``, ``completions``, ``completion_ids`` and
every dataset column as keyword arguments, and wants one float per completion. Each completion
runs in the same sandbox as `ekt-curate verify` (all workers busy), its answer is normalized and
compared with that row's ``gold`` exactly as verify does: the same trusted check that curated
the data drives the RL.
"""

from __future__ import annotations

import atexit
from typing import Any

from ekt_curate.judgement import from_reported, parse_gold
from ekt_curate.judgement.compare import DEFAULT_REL_TOL


class VerifiedAnswerReward:
    """``reward(completions, gold, ...) -> [1.0 if it verifies else 0.0, ...]``."""

    def __init__(self, policy: str = "default", workers: int | None = None, answer: str = "auto",
                 prelude: str | None = None, rel_tol: float = DEFAULT_REL_TOL, passed: float = 1.0,
                 failed: float = 0.0, gold_column: str = "gold", gold_precision: str = "auto",
                 checker: str = "strict"):
        self.__name__ = "verified_answer"  # GRPOTrainer logs rewards under the function's name
        self.policy, self.workers, self.answer, self.prelude = policy, workers, answer, prelude
        self.rel_tol, self.passed, self.failed, self.gold_column = rel_tol, passed, failed, gold_column
        from ekt_curate.stages.verify import check_judge_options

        check_judge_options(rel_tol, gold_precision, checker)
        self.gold_precision, self.checker_name = gold_precision, checker
        self._sandbox: Any = None
        self._checker: Any = None
        self.calls = 0

    def _box(self) -> Any:
        if self._sandbox is None:  # started on first use, so the object can be built before forking DDP ranks
            from ekt_curate.sandbox import Sandbox

            self._sandbox = Sandbox(self.policy, workers=self.workers, prelude=self.prelude, answer=self.answer)
            self._sandbox.start()
            atexit.register(self.close)
        return self._sandbox

    def __call__(self, completions: list[Any], **columns: Any) -> list[float]:
        golds = columns.get(self.gold_column)
        if golds is None:
            raise ValueError(f"the dataset needs a {self.gold_column!r} column for VerifiedAnswerReward")
        texts = [_text(completion) for completion in completions]
        self.calls += 1
        if self._checker is None:
            from ekt_curate.steps.judge import make_checker

            self._checker = make_checker(self.checker_name, self.rel_tol, self.gold_precision)
        rewards = []
        limit = self._box().policy.limits.answer_chars
        for result, gold in zip(self._box().map(texts), golds):
            ok = False
            if result.ok:  # the same bounded parsing and checker as verify: a forged answer is no reward
                answer = from_reported(result.answer_kind, result.answer_text,
                                       cut=bool(getattr(result, "truncated", False)), answer_chars=limit)
                expected = parse_gold(gold)
                ok = not answer.problem and not expected.problem and \
                    self._checker.check(answer, expected, result.answer_text, gold)[0]
            rewards.append(self.passed if ok else self.failed)
        return rewards

    def close(self) -> None:
        if self._checker is not None:
            self._checker.close()
            self._checker = None
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None


def _text(completion: Any) -> str:
    """Standard completions are strings; conversational ones are lists of messages."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
        return str(completion[-1].get("content", ""))
    return str(completion)
