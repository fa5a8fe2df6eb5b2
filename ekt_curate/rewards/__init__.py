"""The verifier as a reward, for reinforcement learning from verifiable rewards.

    from ekt_curate.rewards import VerifiedAnswerReward
    reward = VerifiedAnswerReward(policy="default")          # one warm sandbox, reused every step
    trainer = GRPOTrainer(model=..., reward_funcs=[reward], train_dataset=dataset_with_a_gold_column, ...)

TRL's GRPOTrainer calls a reward function with ``prompts``, ``completions``, ``completion_ids``,
``log_metric``, ``log_extra`` and every dataset column as keyword arguments, and wants one float
per completion. Each completion is judged by ekt_curate.judge, the judge `ekt-curate verify` and
`eval` use: the same program extraction, sandbox, gold reading (GSM8K's ``... #### 72`` text
included) and checker. The same trusted check that curated the data drives the RL.

    AsyncVerifiedAnswerReward   the same, as a coroutine (TRL overlaps async rewards)
    ekt_curate.rewards.verl     verl's ``compute_score`` (custom_reward_function.path)
    ekt_curate.rewards.openrlhf OpenRLHF's ``reward_func(queries, prompts, labels)`` file
    RemoteVerifiedReward        the same verdicts from an `ekt-curate serve` on another machine
"""

from ekt_curate.rewards.remote import RemoteRewardError, RemoteVerifiedReward
from ekt_curate.rewards.verified import AsyncVerifiedAnswerReward, RewardWarning, VerifiedAnswerReward

__all__ = ["AsyncVerifiedAnswerReward", "RemoteRewardError", "RemoteVerifiedReward", "RewardWarning",
           "VerifiedAnswerReward"]
