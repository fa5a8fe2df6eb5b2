"""Local generation with transformers: batched, left-padded, n sequences per prompt.

bf16 on a GPU that supports it (fp32 on CPU), ``num_return_sequences`` for the n samples,
the backend's own stop strings, and a batch size chosen from free GPU memory (the KV cache
of prompt + new tokens for every sequence in flight); on CPU 16 sequences per call (measured
on 2 cores: 16 gives 4.3x a plain per-prompt loop, 64 only 2.3x).

The few-shot prefix every prompt shares is run through the model once and its KV cache is
reused: each sequence then costs only its question and its new tokens. Rows are laid out as
[prefix][padding][question] with the padding masked, so positions continue straight from
the prefix. The cached part is the longest token prefix the template and each prompt really
share (BPE can merge across the boundary), and a batch that does not share it falls back to
plain generation.
"""

from __future__ import annotations

import inspect

from ekt_curate.errors import EktError
from ekt_curate.sampling.base import Completion, SamplingParams, positional_seeds
from ekt_curate.sampling.context import positions_of, too_long

CPU_SEQUENCES = 16


class TransformersBackend:
    name = "transformers"

    def __init__(self, model: str, batch_size: int | None = None, dtype: str = "auto"):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.model = model
        self.torch = torch
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        if dtype == "auto":
            use_bf16 = self.device == "cuda" and torch.cuda.is_bf16_supported()
            torch_dtype = torch.bfloat16 if use_bf16 else (torch.float16 if self.device == "cuda" else torch.float32)
        else:
            torch_dtype = getattr(torch, dtype)
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.tokenizer.padding_side = "left"  # decoder-only: new tokens must follow every prompt directly
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.net = AutoModelForCausalLM.from_pretrained(model, dtype=torch_dtype).to(self.device).eval()
        self.batch_size = batch_size
        self.dtype = str(torch_dtype).removeprefix("torch.")
        self._prefix: tuple[str, list[int], object] | None = None  # (text, token ids, KV cache)
        # transformers 5.2x renamed past_key_values to cache (the old name warns, and goes in 6):
        # the name this model's forward takes is the one generate and its outputs use too.
        self.cache_key = "cache" if "cache" in inspect.signature(self.net.forward).parameters else "past_key_values"
        # A chat template writes the special tokens (BOS) itself: tokenizing its text must not add them again.
        self.special_tokens = True

    def chat_template(self) -> str:
        template = getattr(self.tokenizer, "chat_template", None)
        if not template:
            raise EktError(f"{self.model}: the tokenizer has no chat template, so --chat cannot apply one "
                           "(use a completions prompt format such as pal without --chat)")
        return template if isinstance(template, str) else repr(template)

    def apply_chat_template(self, messages: list[dict[str, str]]) -> str:
        self.special_tokens = False
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def context_window(self) -> tuple[int, str] | None:
        return positions_of(self.net.config)

    def prompt_tokens(self, prompt: str) -> int:
        return len(self._encode(prompt))

    def _fits(self, width: int, params: SamplingParams) -> None:
        """The position embeddings end at the context: past it torch raises an IndexError mid-batch."""
        window = self.context_window()
        if window is not None and width + params.max_new_tokens > window[0]:
            raise too_long(width, params.max_new_tokens, window, "a prompt", None)

    def _encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=self.special_tokens)["input_ids"]

    def preferred_batch(self, params: SamplingParams) -> int:
        """Prompts per call, so that prompts x n sequences fit the memory budget."""
        sequences = self.batch_size or self._sequences_that_fit(params)
        return max(1, sequences // params.n)

    def _sequences_that_fit(self, params: SamplingParams) -> int:
        if self.device != "cuda":
            return max(params.n, CPU_SEQUENCES)
        config = self.net.config
        layers = getattr(config, "num_hidden_layers", 24)
        heads = getattr(config, "num_key_value_heads", None) or getattr(config, "num_attention_heads", 16)
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        element = self.torch.finfo(self.net.dtype).bits // 8
        per_sequence = 2 * layers * heads * head_dim * element * (1024 + params.max_new_tokens)  # K and V
        free, _ = self.torch.cuda.mem_get_info()
        return int(max(1, min(1024, 0.6 * free // per_sequence)))

    def generate(self, prompts: list[str], params: SamplingParams, prefix: str | None = None,
                 seeds: list[list[int]] | None = None) -> list[list[Completion]]:
        from ekt_curate.sampling.seeded_sampler import make_seeded_sampler

        torch = self.torch
        sampling = params.temperature > 0
        # Greedy decoding gives one sequence per prompt (transformers refuses more): repeat it n times.
        copies = params.n if sampling else 1
        # generate's own sampling is off: the seeded sampler draws each row with its sample's seed
        # (rows are prompt-major, copies of one prompt adjacent, in both paths below).
        kwargs = {"do_sample": False, "max_new_tokens": params.max_new_tokens, "pad_token_id": self.tokenizer.pad_token_id}
        if sampling:
            row_seeds = [seed for row in (seeds or positional_seeds(params, len(prompts))) for seed in row]
            kwargs["logits_processor"] = [make_seeded_sampler(row_seeds, params.temperature, params.top_p)]
        if params.stop:
            kwargs.update(stop_strings=list(params.stop), tokenizer=self.tokenizer)
        inputs = self._with_prefix_cache(prompts, copies, prefix) if prefix else None
        with torch.inference_mode():
            if inputs is None:
                encoded = self.tokenizer(prompts, return_tensors="pt", padding=True,
                                         add_special_tokens=self.special_tokens).to(self.device)
                # copies as rows, not num_return_sequences: generate's own sampling is off (the
                # seeded sampler draws), and transformers refuses several sequences when greedy
                encoded = {key: value.repeat_interleave(copies, dim=0) for key, value in encoded.items()}
                self._fits(encoded["input_ids"].shape[1], params)
                output = self.net.generate(**encoded, **kwargs)
                width = encoded["input_ids"].shape[1]
            else:
                self._fits(inputs["input_ids"].shape[1], params)
                output = self.net.generate(**inputs, **kwargs)
                width = inputs["input_ids"].shape[1]
        new_tokens = output[:, width:]
        texts = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
        counts = _generated_lengths(new_tokens, self.tokenizer.pad_token_id, self.tokenizer.eos_token_id)
        return [[Completion(texts[i * copies + j % copies], counts[i * copies + j % copies]) for j in range(params.n)]
                for i in range(len(prompts))]

    def _with_prefix_cache(self, prompts: list[str], copies: int, prefix: str) -> dict[str, object] | None:
        """Inputs for generate that reuse the shared prefix's KV cache, or None to generate plainly."""
        import copy

        torch = self.torch
        if self._prefix is None or self._prefix[0] != prefix:
            ids = self._encode(prefix)[:-1]  # the last token may merge with the question
            if len(ids) < 8:
                return None
            with torch.inference_mode():
                cache = getattr(self.net(torch.tensor([ids], device=self.device), use_cache=True), self.cache_key)
            self._prefix = (prefix, ids, cache)
        _, prefix_ids, cache = self._prefix
        length = len(prefix_ids)
        rows = [self._encode(prompt) for prompt in prompts]
        if any(row[:length] != prefix_ids or len(row) <= length for row in rows):
            return None
        suffixes = [row[length:] for row in rows for _ in range(copies)]
        width = max(len(suffix) for suffix in suffixes)
        pad = self.tokenizer.pad_token_id
        ids = [prefix_ids + [pad] * (width - len(s)) + s for s in suffixes]
        mask = [[1] * length + [0] * (width - len(s)) + [1] * len(s) for s in suffixes]
        batch_cache = copy.deepcopy(cache)
        batch_cache.batch_repeat_interleave(len(ids))
        return {"input_ids": torch.tensor(ids, device=self.device),
                "attention_mask": torch.tensor(mask, device=self.device), self.cache_key: batch_cache}


def _generated_lengths(new_tokens, pad_id: int | None, eos_id: int | None) -> list[int]:  # type: ignore[no-untyped-def]
    """Tokens generated per sequence: up to and including the first EOS, else all but trailing padding."""
    lengths = []
    for row in new_tokens.tolist():
        length = len(row)
        if eos_id is not None and eos_id in row:
            length = row.index(eos_id) + 1
        elif pad_id is not None:
            while length and row[length - 1] == pad_id:
                length -= 1
        lengths.append(length)
    return lengths
