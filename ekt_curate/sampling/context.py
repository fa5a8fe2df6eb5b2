"""Does the prompt fit the model? Checked before the first sample, so that a model with a short
context (GPT-2 and the paper's GPT-Neo students hold 1,024 and 2,048 positions; the 8-shot
``pal`` prompt alone is about 1,400 tokens with a small tokenizer) gets one line naming the
numbers and the remedies, not a position-embedding IndexError from inside torch.

A local backend says its context (``context_window()``: transformers reads the model config's
positions, vLLM its ``max_model_len``) and counts a prompt's tokens (``prompt_tokens()``).
A served model (openai) does neither here: the server refuses a request that does not fit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ekt_curate.errors import EktError

# The prompts measured before generating: the longest questions by characters. The backends
# measure every prompt again as they encode it, so one that slips past this still stops cleanly.
MEASURED = 32


class PromptTooLong(EktError):
    pass


def too_long(tokens: int, max_new_tokens: int, window: tuple[int, str], where: str, shots: int | None = None,
             fitting: int | None = None) -> PromptTooLong:
    positions, source = window
    if fitting is not None:
        fewer = f"fewer exemplars (--exemplars {fitting} fits; this prompt has {shots})"
    elif shots:
        fewer = f"fewer exemplars (--exemplars K; this prompt has {shots})"
    else:
        fewer = "a shorter prompt"
    return PromptTooLong(
        f"{where} is {tokens:,} tokens, and with --max-new-tokens {max_new_tokens:,} needs {tokens + max_new_tokens:,} "
        f"positions: the model has {positions:,} ({source}). Use {fewer}, a smaller --max-new-tokens, "
        "or a model with a longer context")


def check_prompts_fit(backend: Any, prompts_with: Callable[[int], Sequence[tuple[str, Any]]], shots: int,
                      max_new_tokens: int) -> None:
    """Raise PromptTooLong if the longest prompt leaves no room for ``max_new_tokens``.

    ``prompts_with(k)`` gives (task id, prompt) pairs built with the format's first ``k`` of its
    ``shots`` exemplars (the longest questions), so the error can say how many shots would fit."""
    window = backend.context_window() if hasattr(backend, "context_window") else None
    if window is None:
        return

    def longest(k: int) -> tuple[int, str]:
        return max(((backend.prompt_tokens(prompt), task_id) for task_id, prompt in prompts_with(k)), default=(0, ""))

    tokens, task_id = longest(shots)
    if tokens + max_new_tokens <= window[0]:
        return
    fitting = next((k for k in range(shots - 1, -1, -1) if longest(k)[0] + max_new_tokens <= window[0]), None)
    raise too_long(tokens, max_new_tokens, window, f"the prompt of {task_id}", shots or None, fitting)


def positions_of(config: Any) -> tuple[int, str] | None:
    """A transformers model config's context length, and the field it came from."""
    for name in ("max_position_embeddings", "n_positions", "n_ctx", "seq_length", "max_sequence_length"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value, f"{name} in its config"
    return None
