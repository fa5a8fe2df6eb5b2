"""The transformers backend: the few-shot prefix's KV cache changes nothing but the cost."""

from __future__ import annotations

import pytest

from ekt_curate.problems import iter_problems
from ekt_curate.prompts import load_prompt_format
from ekt_curate.sampling.base import SamplingParams

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def backend(tiny_model):
    from ekt_curate.sampling.transformers_backend import TransformersBackend

    return TransformersBackend(str(tiny_model))


def test_prefix_cache_gives_the_same_next_token_distributions(backend):
    import torch

    fmt = load_prompt_format("pal")
    prompts = [fmt.render(p.question) for p in list(iter_problems("gsm8k:test"))[:3]]
    prefix = fmt.template.split("{question}")[0]
    inputs = backend._with_prefix_cache(prompts, 2, prefix)
    assert inputs is not None and inputs["input_ids"].shape[0] == 6
    tok = backend.tokenizer
    with torch.inference_mode():
        plain = torch.stack([backend.net(**tok(p, return_tensors="pt")).logits[0, -1] for p in prompts])
        cached = backend.net(input_ids=inputs["input_ids"][:, len(backend._prefix[1]):],
                             attention_mask=inputs["attention_mask"], **{backend.cache_key: inputs[backend.cache_key]},
                             position_ids=(inputs["attention_mask"].cumsum(-1) - 1)[:, len(backend._prefix[1]):]
                             ).logits[:, -1]
    assert torch.allclose(cached[::2], plain, atol=1e-4) and torch.allclose(cached[1::2], plain, atol=1e-4)


def test_greedy_generation_is_identical_with_and_without_the_cache(backend):
    fmt = load_prompt_format("pal")
    prompts = [fmt.render(p.question) for p in list(iter_problems("gsm8k:test"))[:2]]
    params = SamplingParams(n=3, temperature=0.0, max_new_tokens=10)
    plain = backend.generate(prompts, params)
    cached = backend.generate(prompts, params, prefix=fmt.template.split("{question}")[0])
    assert [[c.text for c in row] for row in plain] == [[c.text for c in row] for row in cached]
    assert all(len(row) == 3 and len({c.text for c in row}) == 1 for row in cached)  # greedy: n copies


def test_prompts_that_do_not_share_the_prefix_fall_back(backend):
    assert backend._with_prefix_cache(["something else entirely"], 1, "Q: a long few-shot prefix " * 10) is None
