"""What every backend provides, and the stop-sequence rule they share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class SamplingParams:
    n: int
    temperature: float = 0.6
    top_p: float = 1.0
    max_new_tokens: int = 256
    stop: tuple[str, ...] = ()
    seed: int = 0


@dataclass(frozen=True)
class Completion:
    text: str
    tokens: int  # generated tokens, before stop truncation (what the hardware spent)


class Backend(Protocol):
    name: str
    model: str

    def generate(self, prompts: list[str], params: SamplingParams, prefix: str | None = None) -> list[list[Completion]]:
        """``params.n`` completions for each prompt, in prompt order. ``prefix`` is the text every
        prompt starts with (the few-shot exemplars), for backends that can reuse its computation."""
        ...

    def preferred_batch(self, params: SamplingParams) -> int:
        """How many prompts to hand over per call."""
        ...


def truncate_at_stop(text: str, stop: tuple[str, ...]) -> str:
    """Cut at the earliest stop sequence (backends may overshoot: they stop on tokens)."""
    cut = len(text)
    for sequence in stop:
        index = text.find(sequence)
        if index != -1:
            cut = min(cut, index)
    return text[:cut]
