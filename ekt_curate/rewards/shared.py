"""One VerifiedAnswerReward per process and settings, for trainers that call a plain function
(verl, OpenRLHF): its sandbox starts on the first call and stays warm for the next."""

from __future__ import annotations

from typing import Any

from ekt_curate.rewards.verified import VerifiedAnswerReward

SETTINGS = ("policy", "workers", "answer", "rel_tol", "gold_precision", "checker", "score", "compare", "case_seconds")
_rewards: dict[tuple[Any, ...], VerifiedAnswerReward] = {}


def shared_reward(options: dict[str, Any]) -> VerifiedAnswerReward:
    """The reward for these settings (keys of SETTINGS; others are the trainer's and ignored)."""
    chosen = {key: options[key] for key in SETTINGS if key in options}
    key = tuple(sorted(chosen.items()))
    if key not in _rewards:
        _rewards[key] = VerifiedAnswerReward(**chosen)
    return _rewards[key]
