"""vLLM's offline engine, when installed: ``LLM.generate`` with ``SamplingParams(n=...)``.
vLLM batches and caches the shared few-shot prefix by itself, so it gets many prompts per call."""

from __future__ import annotations

from ekt_curate.errors import EktError
from ekt_curate.sampling.base import Completion, SamplingParams, positional_seeds


class VLLMBackend:
    name = "vllm"

    def __init__(self, model: str, seed: int = 0, dtype: str = "auto"):
        try:
            from vllm import LLM
        except ImportError:
            raise EktError("--backend vllm needs vLLM: pip install vllm (Linux with a CUDA GPU)") from None
        self.model = model
        self.llm = LLM(model=model, seed=seed, dtype=dtype, enable_prefix_caching=True)

    def preferred_batch(self, params: SamplingParams) -> int:
        return 1024

    def generate(self, prompts: list[str], params: SamplingParams, prefix: str | None = None,
                 seeds: list[list[int]] | None = None) -> list[list[Completion]]:
        from vllm import SamplingParams as VLLMSamplingParams

        # One request per sample, each with its own seed (vLLM's prefix cache shares the prompt).
        seeds = seeds or positional_seeds(params, len(prompts))
        requests = [(prompt, seed) for prompt, row in zip(prompts, seeds) for seed in row]
        sampling = [VLLMSamplingParams(n=1, temperature=params.temperature, top_p=params.top_p,
                                       max_tokens=params.max_new_tokens, stop=list(params.stop), seed=seed)
                    for _, seed in requests]
        outputs = self.llm.generate([prompt for prompt, _ in requests], sampling, use_tqdm=False)
        flat = [Completion(output.outputs[0].text, len(output.outputs[0].token_ids)) for output in outputs]
        return [flat[i * params.n:(i + 1) * params.n] for i in range(len(prompts))]
