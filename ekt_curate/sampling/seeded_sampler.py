"""Sampling in transformers with one random generator per sequence.

``generate`` draws every row of a batch from one global generator, so a sample depends on
what else is in its batch and on the batch size. This logits processor does the sampling
itself (temperature, top-p, then one draw from the row's own ``torch.Generator`` seeded with
the sample's seed) and leaves only the drawn token possible, so generate's greedy step picks
it. A row's draws then depend on its own seed and its own probabilities alone.
"""

from __future__ import annotations

from typing import Any


def make_seeded_sampler(seeds: list[int], temperature: float, top_p: float) -> Any:
    import torch
    from transformers import LogitsProcessor

    class SeededSampler(LogitsProcessor):
        def __init__(self) -> None:
            self.generators: list[torch.Generator] | None = None

        def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
            if self.generators is None:  # on the scores' device, created on the first step
                self.generators = [torch.Generator(scores.device).manual_seed(s) for s in seeds]
            if scores.shape[0] != len(self.generators):
                raise ValueError(f"{scores.shape[0]} rows for {len(self.generators)} seeds")
            probs = torch.softmax(scores.float() / temperature, dim=-1)
            if top_p < 1.0:
                ordered, order = probs.sort(dim=-1, descending=True)
                drop = ordered.cumsum(dim=-1) - ordered > top_p  # keep the smallest set reaching top_p
                probs = probs.scatter(-1, order, ordered.masked_fill(drop, 0.0))
            picks = torch.cat([torch.multinomial(row, 1, generator=generator)
                               for row, generator in zip(probs, self.generators)])
            chosen = torch.full_like(scores, float("-inf"))
            chosen.scatter_(1, picks.unsqueeze(1), 0.0)
            return chosen

    return SeededSampler()
