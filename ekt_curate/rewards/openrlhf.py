"""OpenRLHF's reward function file: ``--remote_rm_url`` pointed at this file.

    --remote_rm_url $(python -c "import ekt_curate.rewards.openrlhf as m; print(m.__file__)") --label_key gold

OpenRLHF calls ``reward_func(queries, prompts, labels)`` (one query per call, from several
threads at once): each query is the decoded prompt and response tokens, and the label is the
dataset's ``--label_key`` column (the gold). It wants ``rewards`` (for the advantage),
``scores`` (for dynamic filtering) and ``extra_logs``."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ekt_curate.rewards.shared import shared_reward


def reward_func(queries: list[str], prompts: list[str], labels: list[Any], **kwargs: Any) -> dict[str, Any]:
    import torch

    if len(queries) != len(prompts):
        raise ValueError(f"reward_func: {len(queries)} queries but {len(prompts)} prompts")
    responses = [response_of(query, prompt) for query, prompt in zip(queries, prompts)]
    reward = shared_reward(kwargs)
    verdicts = reward.verdicts(responses, labels)
    rewards = torch.tensor([reward.passed if v["passed"] else reward.failed for v in verdicts], dtype=torch.float32)
    counts = Counter(str(v["status"]) for v in verdicts)
    extra = {f"verified/{status}": torch.tensor(float(count)) for status, count in sorted(counts.items())}
    return {"rewards": rewards, "scores": (rewards == reward.passed).float(), "extra_logs": extra}


def response_of(query: str, prompt: str) -> str:
    """The query minus its prompt. The query is decoded from tokens (special tokens kept), so the
    prompt may not start it exactly (a BOS token before it); a few-shot prompt's exemplar programs
    must never be run as the response."""
    at = query.find(prompt) if prompt else -1
    return query[at + len(prompt):] if at >= 0 else query
