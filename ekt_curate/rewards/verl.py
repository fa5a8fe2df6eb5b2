"""verl's custom reward function: point ``custom_reward_function.path`` at this file.

    custom_reward_function.path=$(python -c "import ekt_curate.rewards.verl as m; print(m.__file__)")
    custom_reward_function.name=compute_score
    +custom_reward_function.reward_kwargs.policy=default      # optional: any of shared.SETTINGS

verl's reward managers call ``compute_score(data_source=, solution_str=, ground_truth=,
extra_info=)`` once per sample (naive, dapo, prime), or with the plural keywords and lists
(batch). ``ground_truth`` is the dataset's ``reward_model.ground_truth``: a number, text or
GSM8K's ``... #### 72`` answer, or code tests as verl's sandbox_fusion takes them (JSON with
``inputs``/``outputs`` and an optional ``fn_name``, or ``assert_case``). The result is verl's dict
form: ``score`` is the reward, ``acc`` whether it verified; verl logs every key."""

from __future__ import annotations

from typing import Any

from ekt_curate.judge.code_tests import has_tests
from ekt_curate.rewards.shared import shared_reward


def compute_score(data_source: Any = None, solution_str: str | None = None, ground_truth: Any = None,
                  extra_info: Any = None, **kwargs: Any) -> dict[str, float] | list[dict[str, float]]:
    reward = shared_reward(kwargs)
    if "solution_strs" in kwargs:  # verl's batch reward manager
        solutions, truths = list(kwargs["solution_strs"]), list(kwargs["ground_truths"])
        return [_score(verdict, reward) for verdict in _verdicts(reward, solutions, truths)]
    return _score(_verdicts(reward, [solution_str], [ground_truth])[0], reward)


def _verdicts(reward: Any, solutions: list[Any], truths: list[Any]) -> list[dict[str, object]]:
    rows = [{"ground_truth": truth} for truth in truths]
    if any(has_tests(row) for row in rows):  # code: judged by the tests the truth holds
        return reward.verdicts(solutions, [None] * len(solutions), rows)
    return reward.verdicts(solutions, truths)


def _score(verdict: dict[str, object], reward: Any) -> dict[str, float]:
    return {"score": reward.value(verdict), "acc": float(bool(verdict["passed"]))}
