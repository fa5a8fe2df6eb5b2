"""How a prompt format reaches a backend, and how its output becomes a sample.

- ``completions``: the format's few-shot text; the output is cut at the stop sequences.
- ``chat``: the format's messages (a chat format's system message and exemplar turns; a text
  format becomes one user message). An OpenAI-compatible server applies the chat template
  itself; a local backend (transformers, vLLM) applies its tokenizer's. The sample's
  ``completion`` is the program taken out of the reply, and ``reply`` keeps the reply whole.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

from ekt_curate.errors import EktError
from ekt_curate.prompts import PromptFormat
from ekt_curate.sampling.base import Prompt, truncate_at_stop
from ekt_curate.sampling.chat_reply import program_from_reply


@dataclass
class PromptPlan:
    fmt: PromptFormat
    endpoint: str                   # completions | chat
    stop: tuple[str, ...]
    prefix: str | None              # text every prompt starts with (for the transformers KV cache)
    template: str | None            # which chat template: "server", "tokenizer:<sha256 prefix>" or None
    apply_template: Any = None      # messages -> text, for a local backend in chat mode

    def prompts(self, questions: list[str]) -> list[Prompt]:
        if self.endpoint == "completions":
            return [self.fmt.render(q) for q in questions]
        if self.apply_template is None:
            return [self.fmt.messages(q) for q in questions]
        return [self.apply_template(self.fmt.messages(q)) for q in questions]

    def sample_fields(self, text: str) -> dict[str, str]:
        if self.endpoint == "completions":
            return {"completion": truncate_at_stop(text, self.stop)}
        reply = truncate_at_stop(text, self.stop)
        return {"completion": program_from_reply(reply), "reply": reply}


def plan_prompts(fmt: PromptFormat, endpoint: str | None, backend: Any, stop: tuple[str, ...] | None) -> PromptPlan:
    endpoint = endpoint or ("chat" if fmt.chat else "completions")
    if endpoint == "completions" and fmt.chat:
        raise EktError(f"prompt {fmt.name!r} is a chat format: use --endpoint chat (openai) or --chat "
                       "(transformers, vllm), or a text format such as pal")
    if endpoint == "completions":
        shared = fmt.template.split("{question}")[0] if "{question}" in fmt.template else None
        return PromptPlan(fmt, endpoint, fmt.stop if stop is None else stop, shared, None)
    # A chat reply ends with its turn: the text format's "\nQ:" stops would only cut programs short.
    stop = () if stop is None else stop
    apply = getattr(backend, "apply_chat_template", None)
    if apply is None:  # the server applies its own template
        return PromptPlan(fmt, endpoint, stop, None, "server")
    template = backend.chat_template()
    # The prefix every prompt shares: what two renders with different questions have in common.
    first, second = apply(fmt.messages("A")), apply(fmt.messages("B"))
    shared = os.path.commonprefix([first, second]) if isinstance(first, str) else None  # vLLM: token ids
    digest = hashlib.sha256(template.encode()).hexdigest()[:12]
    return PromptPlan(fmt, endpoint, stop, shared or None, f"tokenizer:{digest}", apply)
