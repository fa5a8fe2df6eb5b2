"""verl's compute_score and OpenRLHF's reward_func, loaded from their files and called the way
each framework does (verl 0.9: NaiveRewardManager per sample and BatchRewardManager with lists,
reward_kwargs merged in by get_custom_reward_fn; OpenRLHF 0.11: SingleTurnAgentExecutor, one
query per call from several threads at once)."""

from __future__ import annotations

import asyncio
import functools
import importlib.util

import ekt_curate.rewards.openrlhf
import ekt_curate.rewards.verl

GSM8K_ANSWER = "Natalia sold 24 clips in May.\n#### 72"
RIGHT = "```python\ndef solution():\n    return 48 + 24\n```"


def load(path: str, module_name: str):
    """As verl's load_extern_object and OpenRLHF's SingleTurnAgentExecutor load a reward file."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_verl_calls_compute_score_per_sample_and_in_batches():
    raw = load(ekt_curate.rewards.verl.__file__, "custom_module").compute_score
    # get_custom_reward_fn: partial(_call_with_kwargs, raw_fn, reward_kwargs), the config's kwargs winning
    compute_score = functools.partial(lambda fn, extra, *a, **kw: fn(*a, **{**kw, **extra}), raw, {"policy": "default"})
    scores = [compute_score(data_source="openai/gsm8k", solution_str=solution, ground_truth=truth,
                            extra_info={"num_turns": None, "rollout_reward_scores": {}})
              for solution, truth in [(RIGHT, GSM8K_ANSWER), ("answer = 7", "72"), (RIGHT, 72)]]
    assert scores == [{"score": 1.0, "acc": 1.0}, {"score": 0.0, "acc": 0.0}, {"score": 1.0, "acc": 1.0}]
    batch = compute_score(data_sources=["gsm8k"] * 2, solution_strs=[RIGHT, ""], ground_truths=[72, 72],
                          extra_infos=[{}, {}])
    assert batch == [{"score": 1.0, "acc": 1.0}, {"score": 0.0, "acc": 0.0}]


def test_openrlhf_calls_reward_func_one_query_per_thread():
    import torch

    reward_func = load(ekt_curate.rewards.openrlhf.__file__, "reward_func").reward_func
    prompt = "Question: Natalia sold 48 clips in April and half as many in May...\n# exemplar:\nanswer = 1\n"
    cases = [("<s>" + prompt + RIGHT, prompt, GSM8K_ANSWER),  # decoded with its BOS token kept
             (prompt + "answer = 1", prompt, "72")]            # the exemplar's program is not the response

    async def fetch():
        return await asyncio.gather(*(asyncio.to_thread(reward_func, [q], [p], [label]) for q, p, label in cases))

    results = asyncio.run(fetch())
    rewards = [torch.tensor([info["rewards"]]).flatten()[0].item() for info in results]  # as OpenRLHF stores them
    assert rewards == [1.0, 0.0]
    assert all(info["scores"].shape == (1,) for info in results)
    for info in results:
        for value in info["extra_logs"].values():
            value.flatten()[0].item()  # OpenRLHF's _process_response_into_experience does this to each
