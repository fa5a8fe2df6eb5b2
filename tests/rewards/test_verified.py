"""The reward as TRL calls it: the golds and completion shapes verify reads, the statuses logged
per call, unusable golds warned about once and counted, mismatched batches a clear error."""

from __future__ import annotations

import asyncio
import warnings

import pytest

from ekt_curate.rewards import AsyncVerifiedAnswerReward, RewardWarning, VerifiedAnswerReward

GSM8K_ANSWER = "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips.\n#### 72"
RIGHT = "def solution():\n    return 48 + 24\n"


@pytest.fixture(scope="module")
def reward():
    made = VerifiedAnswerReward(workers=2)
    yield made
    made.close()


def test_gsm8k_answer_text_is_read_as_its_number(reward):
    assert reward(completions=[RIGHT, "answer = 71"], gold=[GSM8K_ANSWER] * 2) == [1.0, 0.0]


def test_every_completion_shape_trl_passes(reward):
    completions = [RIGHT,                                                              # standard
                   [{"role": "assistant", "content": RIGHT}],                         # conversational
                   [{"role": "assistant", "content": [{"type": "text", "text": RIGHT}]}],  # content parts
                   {"role": "assistant", "content": RIGHT},                           # one message
                   [{"role": "user", "content": "no assistant turn"}]]                # nothing to run
    assert reward(completions=completions, gold=[72] * 5) == [1.0, 1.0, 1.0, 1.0, 0.0]
    assert reward.last_verdicts[-1]["status"] == "no_program"


def test_statuses_are_logged_per_call(reward):
    metrics: dict[str, float] = {}
    extra: dict[str, list] = {}
    rewards = reward(completions=[RIGHT, "answer = 1", "", "x = (", "raise ValueError('no')"], gold=[72] * 5,
                     log_metric=metrics.__setitem__, log_extra=extra.__setitem__, prompts=["p"] * 5)
    assert rewards == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert {k: v for k, v in metrics.items() if v} == {
        "verified_answer/pass": 1.0, "verified_answer/wrong_answer": 1.0, "verified_answer/no_program": 1.0,
        "verified_answer/syntax_error": 1.0, "verified_answer/runtime_error": 1.0}
    assert "verified_answer/timeout" in metrics  # every status, every call: averages stay comparable
    assert extra == {"verified_answer_status": ["pass", "wrong_answer", "no_program", "syntax_error",
                                                "runtime_error"]}


def test_unusable_golds_are_warned_about_once_and_counted():
    reward = VerifiedAnswerReward(workers=1)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            first = reward(completions=[RIGHT, RIGHT, RIGHT], gold=[None, None, "\\boxed{72}"])
            second = reward(completions=[RIGHT, RIGHT], gold=[None, "\\boxed{72}"])
        assert first == [0.0, 0.0, 0.0] and second == [0.0, 0.0]
        messages = [str(w.message) for w in caught if issubclass(w.category, RewardWarning)]
        assert len(messages) == 2, messages
        assert any("missing" in m for m in messages) and any("math-verify" in m for m in messages)
        assert reward.status_counts["bad_gold"] == 3
    finally:
        reward.close()


def test_a_boxed_gold_passes_under_math_verify():
    reward = VerifiedAnswerReward(workers=1, checker="math-verify")
    try:
        assert reward(completions=[RIGHT, "answer = 7"], gold=["\\boxed{72}"] * 2) == [1.0, 0.0]
    finally:
        reward.close()


def test_mismatched_lengths_and_a_missing_column_are_clear_errors(reward):
    with pytest.raises(ValueError, match="3 completions but 2 golds"):
        reward(completions=[RIGHT] * 3, gold=[72, 72])
    with pytest.raises(ValueError, match="needs a 'gold' column .*columns given: answer"):
        reward(completions=[RIGHT], answer=[72])


def test_bad_options_fail_when_the_reward_is_made():
    from ekt_curate.errors import EktError

    with pytest.raises(EktError, match="--checker must be one of"):
        VerifiedAnswerReward(checker="sympy")


def test_the_async_form_gives_the_same_rewards_under_gather():
    from trl.trainer.utils import is_async_callable

    reward = AsyncVerifiedAnswerReward(workers=2)
    try:
        assert is_async_callable(reward)  # how GRPOTrainer decides to await it

        async def both():
            return await asyncio.gather(reward(completions=[RIGHT, "answer = 1"], gold=[72, 72]),
                                        reward(completions=["answer = 1", RIGHT], gold=[72, 72]))

        assert asyncio.run(both()) == [[1.0, 0.0], [0.0, 1.0]]
    finally:
        reward.close()
