"""vLLM's offline engine, when installed: ``LLM.generate`` with ``SamplingParams(n=...)``.
vLLM batches and caches the shared few-shot prefix by itself, so it gets many prompts per call."""

from __future__ import annotations

from ekt_curate.errors import EktError
from ekt_curate.sampling.base import Completion, SamplingParams


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

    def generate(self, prompts: list[str], params: SamplingParams, prefix: str | None = None) -> list[list[Completion]]:
        from vllm import SamplingParams as VLLMSamplingParams

        sampling = VLLMSamplingParams(n=params.n, temperature=params.temperature, top_p=params.top_p,
                                      max_tokens=params.max_new_tokens, stop=list(params.stop), seed=params.seed)
        outputs = self.llm.generate(prompts, sampling, use_tqdm=False)
        return [[Completion(choice.text, len(choice.token_ids)) for choice in output.outputs] for output in outputs]
