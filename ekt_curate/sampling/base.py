"""What every backend provides, and the rules they share: stop sequences and per-sample seeds."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Protocol

# A prompt is text (completions, or a chat template already applied) or chat messages
# ({"role", "content"} dicts) for an endpoint that applies the template itself.
Prompt = str | list[dict[str, str]]


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

    def generate(self, prompts: list[Any], params: SamplingParams, prefix: str | None = None,
                 seeds: list[list[int]] | None = None) -> list[list[Completion]]:
        """``params.n`` completions for each prompt, in prompt order; completion j of prompt i is
        drawn with ``seeds[i][j]`` (default: ``positional_seeds``). ``prefix`` is the text every
        prompt starts with (the few-shot exemplars), for backends that can reuse its computation."""
        ...

    def preferred_batch(self, params: SamplingParams) -> int:
        """How many prompts to hand over per call."""
        ...


def sample_seed(seed: int, task_id: str, index: int) -> int:
    """The seed of one sample: a hash of the run's seed, the task and the sample's index.

    Every sample gets its own, so n samples of a problem are n independent draws whatever the
    batching (one seed per batch gave 9 distinct completions out of 20 on vLLM), and the same
    sample is drawn again on a rerun or a resume. 31 bits: every server accepts that."""
    digest = hashlib.sha256(f"{seed}/{task_id}/{index}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def positional_seeds(params: SamplingParams, prompts: int) -> list[list[int]]:
    """Seeds for callers that have no task ids (benchmarks, tests): by position in the call."""
    return [[sample_seed(params.seed, f"#{i}", j) for j in range(params.n)] for i in range(prompts)]


def truncate_at_stop(text: str, stop: tuple[str, ...]) -> str:
    """Cut at the earliest stop sequence (backends may overshoot: they stop on tokens)."""
    cut = len(text)
    for sequence in stop:
        index = text.find(sequence)
        if index != -1:
            cut = min(cut, index)
    return text[:cut]
