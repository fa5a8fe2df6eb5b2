"""Teacher sampling throughput: the transformers backend, the vLLM backend (when vLLM is
installed: run it with .venv-vllm/bin/python on CPU) and a plain loop; same model, same prompts.

    python benchmarks/bench_sample.py [--problems 32] [-n 4] [--max-new-tokens 64] [--hidden 256 --layers 4]

- ekt-curate: ``TransformersBackend`` (the 8-shot prefix's KV cache computed once and reused,
  batches of prompts, batch size from free GPU memory, bf16 on GPU);
- vLLM: ``VLLMBackend`` (one request per sample, prefix caching; on CPU eager mode, 1 GiB KV
  cache unless VLLM_CPU_KVCACHE_SPACE says otherwise), timed after the engine has started;
- plain loop: one ``model.generate`` call per prompt (with ``num_return_sequences``), the way
  a first script does it.
The model is a Llama with random weights built locally (no download); its size is set by the
flags (``--hidden 1024 --layers 24`` is ~0.5B parameters, for a GPU). Tokens/s counts generated
tokens. Random weights never emit the stop sequences, so every sequence runs to max_new_tokens
in both methods.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from ekt_curate.problems import iter_problems
from ekt_curate.prompts import load_prompt_format
from ekt_curate.sampling.base import SamplingParams
from ekt_curate.sampling.transformers_backend import TransformersBackend
from ekt_curate.tiny_model import build_tiny_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", type=int, default=32)
    parser.add_argument("-n", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--batch-size", type=int, help="sequences per call for ekt-curate (default: auto)")
    args = parser.parse_args()
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        heads = max(4, args.hidden // 64)
        folder = build_tiny_model(Path(tmp) / "model", vocab_size=2048, layers=args.layers, hidden=args.hidden,
                                  heads=heads, kv_heads=max(1, heads // 4))
        backend = TransformersBackend(str(folder), batch_size=args.batch_size)
        fmt = load_prompt_format("pal")
        prompts = [fmt.render(p.question) for p in list(iter_problems("gsm8k:test"))[: args.problems]]
        params = SamplingParams(n=args.n, temperature=0.6, max_new_tokens=args.max_new_tokens, stop=())
        prefix = fmt.template.split("{question}")[0]
        parameters = sum(p.numel() for p in backend.net.parameters())
        backend.generate(prompts[:1], params, prefix=prefix)  # warm up (and compute the prefix once)

        start = time.perf_counter()
        tokens, step = 0, backend.preferred_batch(params)
        for i in range(0, len(prompts), step):
            tokens += sum(c.tokens for outs in backend.generate(prompts[i:i + step], params, prefix=prefix) for c in outs)
        ours = tokens / (time.perf_counter() - start)

        tok, net = backend.tokenizer, backend.net
        start, plain_tokens = time.perf_counter(), 0
        for prompt in prompts:
            encoded = tok(prompt, return_tensors="pt").to(backend.device)
            torch.manual_seed(0)
            with torch.inference_mode():
                out = net.generate(**encoded, do_sample=True, temperature=0.6, max_new_tokens=args.max_new_tokens,
                                   num_return_sequences=args.n, pad_token_id=tok.pad_token_id)
            plain_tokens += int((out[:, encoded["input_ids"].shape[1]:] != tok.pad_token_id).sum())
        plain = plain_tokens / (time.perf_counter() - start)
        vllm_rate = _vllm(folder, prompts, params, backend.dtype)
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    print(f"{device}; random Llama, {parameters / 1e6:.1f}M parameters, {backend.dtype}; {len(prompts)} 8-shot prompts "
          f"x n={args.n}, {args.max_new_tokens} new tokens; ekt-curate batch {step} prompts\n")
    print("| method | tokens/s | speed-up |\n|---|---:|---:|")
    print(f"| plain loop: one generate() per prompt | {plain:,.0f} | 1.0x |")
    print(f"| ekt-curate transformers backend | {ours:,.0f} | {ours / plain:.1f}x |")
    if vllm_rate is not None:
        print(f"| ekt-curate vLLM backend | {vllm_rate:,.0f} | {vllm_rate / plain:.1f}x |")


def _vllm(folder: Path, prompts: list[str], params: SamplingParams, dtype: str) -> float | None:
    """Generated tokens/s of the vLLM backend in ``dtype`` (the transformers backend's: vLLM on CPU
    would pick bfloat16), or None without vLLM."""
    import importlib.util
    import os

    if importlib.util.find_spec("vllm") is None:
        print("vLLM not installed: its row is left out (make test-vllm builds .venv-vllm)")
        return None
    from ekt_curate.sampling.vllm_backend import VLLMBackend

    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    backend = VLLMBackend(str(folder), engine_args={"enforce_eager": True, "dtype": dtype})
    try:
        backend.generate(prompts[:1], params)  # warm up
        start = time.perf_counter()
        outs = backend.generate(prompts, params)
        return sum(c.tokens for row in outs for c in row) / (time.perf_counter() - start)
    finally:
        backend.close()


if __name__ == "__main__":
    main()
