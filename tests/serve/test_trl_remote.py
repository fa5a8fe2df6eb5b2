"""A TRL GRPOTrainer run (tiny model, 2 steps, CPU) whose reward is an async client of a server's
POST /verify: the trainer on one machine, the verifier on another (here both on 127.0.0.1)."""

from __future__ import annotations

import pytest

from ekt_curate.judge import STATUSES
from tests.training.test_train_eval_rewards import PROBLEMS

pytestmark = pytest.mark.slow


def test_grpo_trains_with_the_remote_reward(server, tiny_model, tmp_path):
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer
    from trl.trainer.utils import is_async_callable

    from ekt_curate.rewards import RemoteVerifiedReward

    reward = RemoteVerifiedReward(server.url, name="remote_verified")
    assert is_async_callable(reward)  # TRL awaits it, overlapping its latency with the other rewards
    dataset = Dataset.from_list([{"prompt": f"Question: {q}\n", "gold": f"...\n#### {g}"} for _, q, g, _ in PROBLEMS] * 2)
    args = GRPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=4, num_generations=4,
                      max_completion_length=8, max_steps=2, logging_steps=1, report_to="none", use_cpu=True,
                      save_strategy="no")
    trainer = GRPOTrainer(model=str(tiny_model), reward_funcs=[reward], args=args, train_dataset=dataset)
    trainer.train()
    assert reward.calls >= 2
    logged = [entry for entry in trainer.state.log_history if "rewards/remote_verified/mean" in entry]
    assert logged and all(0.0 <= entry["rewards/remote_verified/mean"] <= 1.0 for entry in logged)
    # each step's statuses, counted by the server's verdicts, sum to the batch: none lost or judged twice
    assert all(sum(entry[f"remote_verified/{status}"] for status in STATUSES) == 4 for entry in logged)
