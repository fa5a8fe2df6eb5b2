"""`ekt-curate sample`: a teacher writes n programs per problem, few-shot.

Output: the samples.jsonl that verify reads (``task_id``, ``question``, ``gold``,
``completion``) plus ``sample_index``, ``sample_seed`` (each sample's own seed, from the run's
seed, the task and the index), ``reply`` (chat: the whole reply the program was taken from)
and ``meta`` (model, backend, prompt, endpoint, chat_template, temperature, top_p,
max_new_tokens, seed). Lines are whole-line appends; ``--resume`` counts what each
task already has and generates only the missing samples; ``--shard I/N`` takes every N-th
problem. ``--verify`` runs the verifier in a thread that follows the samples file, so CPU
verification overlaps generation.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ekt_curate.errors import EktError
from ekt_curate.fields import DEFAULT_FIELDS, FieldNames
from ekt_curate.jsonl import LineWriter, iter_records, repair_tail
from ekt_curate.prompts import PromptFormat, load_prompt_format, shot_count, with_exemplars
from ekt_curate.provenance import write_meta
from ekt_curate.sampling.base import Backend, SamplingParams, sample_seed
from ekt_curate.sampling.context import MEASURED, check_prompts_fit
from ekt_curate.sampling.prompting import plan_prompts


@dataclass(frozen=True)
class SampleConfig:
    problems: str
    model: str
    output: Path
    n: int = 100
    prompt: str = "pal"
    temperature: float = 0.6
    top_p: float = 1.0
    max_new_tokens: int = 256
    backend: str = "transformers"
    seed: int = 0
    shard: tuple[int, int] | None = None
    resume: bool = False
    overwrite: bool = False
    limit: int | None = None               # only the first N problems (after exclusions)
    include_exemplars: bool = False
    exemplars: int | None = None           # the prompt format's first K shots (default: all)
    batch_size: int | None = None          # sequences per generate call (transformers); auto by default
    endpoint: str | None = None            # completions | chat; None: chat for a chat prompt format
    seeding: str = "sample"                # sample: each sample its own seed | none: the engine's randomness
    engine_args: tuple[str, ...] | dict[str, Any] = ()  # vllm: KEY=VALUE (CLI) or a mapping (pipeline YAML)
    base_url: str | None = None            # openai backend
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 16
    max_retries: int = 6
    stop: tuple[str, ...] | None = None    # overrides the prompt format's
    verify: bool = False
    verify_policy: str = "default"
    workers: int | None = None
    fields: FieldNames = DEFAULT_FIELDS    # where the problems keep their id, question and gold


@dataclass
class SampleSummary:
    output: Path
    problems: int = 0
    written: int = 0
    already: int = 0
    tokens: int = 0
    seconds: float = 0.0
    verified: Any = None
    excluded: list[str] = field(default_factory=list)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


def make_backend(config: SampleConfig) -> Backend:
    if config.backend == "transformers":
        from ekt_curate.model_loading import require_model
        from ekt_curate.sampling.transformers_backend import TransformersBackend

        require_model(config.model)  # an offline Hub id, a typo, a missing folder: one line, exit 4
        return TransformersBackend(config.model, batch_size=config.batch_size)
    if config.backend == "vllm":
        from ekt_curate.sampling.vllm_backend import VLLMBackend

        return VLLMBackend(config.model, seed=config.seed, engine_args=config.engine_args,
                           seeded=config.seeding == "sample")
    if config.backend == "openai":
        if not config.base_url:
            raise EktError("--backend openai needs --base-url (e.g. http://host:8000/v1)")
        from ekt_curate.sampling.openai_backend import OpenAIBackend

        return OpenAIBackend(config.base_url, config.model, api_key_env=config.api_key_env,
                             concurrency=config.concurrency, max_retries=config.max_retries,
                             endpoint=config.endpoint or ("chat" if load_prompt_format(config.prompt).chat
                                                          else "completions"),
                             send_seed=config.seeding == "sample")
    raise EktError(f"unknown backend {config.backend!r}: use transformers, vllm or openai")


def _existing(output: Path) -> Counter[str]:
    repair_tail(output)
    counts: Counter[str] = Counter()
    if output.exists():
        try:
            for record in iter_records(output):
                counts[str(record["task_id"])] += 1
        except (ValueError, KeyError, TypeError) as exc:
            raise EktError(f"{output}: cannot resume, not a samples file ({exc})") from None
    return counts


def check_settings(config: SampleConfig) -> PromptFormat:
    """One line (exit 2) for a bad setting, before any request; returns the prompt format."""
    if config.n < 1:
        raise EktError("-n must be at least 1")
    if not 0 <= config.temperature <= 5 or not 0 < config.top_p <= 1:
        raise EktError("--temperature must be in [0, 5] and --top-p in (0, 1]")
    if config.seeding not in ("sample", "none"):
        raise EktError(f"unknown seeding {config.seeding!r}: use sample or none")
    prompt = load_prompt_format(config.prompt)
    return prompt if config.exemplars is None else with_exemplars(prompt, config.exemplars)


def run_sample(config: SampleConfig, progress: Callable[[int, int], Callable[[int], None]] | None = None,
               backend: Backend | None = None) -> SampleSummary:
    from ekt_curate.problems import iter_problems

    prompt: PromptFormat = check_settings(config)
    output = config.output
    if output.exists() and not (config.resume or config.overwrite):
        raise EktError(f"{output} already exists: pass --resume to complete it, or --overwrite to start again")
    if config.overwrite:
        output.unlink(missing_ok=True)
    have = _existing(output) if config.resume else Counter()

    excluded = set() if config.include_exemplars else set(prompt.exemplar_task_ids)
    problems = [p for p in iter_problems(config.problems, config.fields) if p.task_id not in excluded]
    if config.limit is not None:
        problems = problems[: config.limit]
    if config.shard:
        index, count = config.shard
        problems = problems[index::count]
    todo = [(p, config.n - have.get(p.task_id, 0)) for p in problems if have.get(p.task_id, 0) < config.n]
    summary = SampleSummary(output, problems=len(problems), already=sum(min(have.get(p.task_id, 0), config.n)
                                                                        for p in problems),
                            excluded=sorted(excluded))
    if config.endpoint == "completions" and prompt.chat:
        plan_prompts(prompt, config.endpoint, None, config.stop)  # says why, before a model loads
    total = len(problems) * config.n
    advance = progress(total, summary.already) if progress else (lambda n, tokens=0: None)

    finished = threading.Event()
    verifier = _start_verifier(config, finished) if config.verify else None
    writer = LineWriter(output)
    started = time.monotonic()
    own_backend = backend is None
    meta_base: dict[str, Any] = {}
    stop: tuple[str, ...] = ()
    try:
        backend = backend or make_backend(config)
        plan = plan_prompts(prompt, config.endpoint, backend, config.stop)
        _check_context(backend, prompt, config, [p for p, _ in todo])
        stop = plan.stop
        meta_base = {"model": config.model, "backend": config.backend, "prompt": prompt.name,
                     "exemplars": shot_count(prompt), "endpoint": plan.endpoint, "chat_template": plan.template,
                     "temperature": config.temperature, "top_p": config.top_p,
                     "max_new_tokens": config.max_new_tokens, "seed": config.seed, "seeding": config.seeding}
        # group tasks by how many samples they still need (resume leaves some partial)
        by_missing: dict[int, list[Any]] = {}
        for problem, missing in todo:
            by_missing.setdefault(missing, []).append(problem)
        for missing, group in sorted(by_missing.items(), reverse=True):
            params = SamplingParams(n=missing, temperature=config.temperature, top_p=config.top_p,
                                    max_new_tokens=config.max_new_tokens, stop=stop, seed=config.seed)
            step = backend.preferred_batch(params)
            for start in range(0, len(group), step):
                batch = group[start:start + step]
                first = config.n - missing
                if config.seeding == "sample":
                    seeds = [[sample_seed(config.seed, p.task_id, first + j) for j in range(missing)] for p in batch]
                else:  # backends that take no seed ignore these; the transformers sampler needs some
                    seeds = [[random.getrandbits(31) for _ in range(missing)] for _ in batch]
                completions = backend.generate(plan.prompts([p.question for p in batch]), params,
                                               prefix=plan.prefix, seeds=seeds)
                for problem, outs, row_seeds in zip(batch, completions, seeds):
                    for offset, (completion, seed) in enumerate(zip(outs, row_seeds)):
                        reference = problem.tests if problem.tests is not None else {"gold": problem.gold}
                        writer.write({"task_id": problem.task_id, "question": problem.question, **reference,
                                      **plan.sample_fields(completion.text), "sample_index": first + offset,
                                      "sample_seed": seed if config.seeding == "sample" else None,
                                      "meta": meta_base})
                        summary.tokens += completion.tokens
                        summary.written += 1
                    advance(len(outs), sum(c.tokens for c in outs))
                summary.seconds = time.monotonic() - started
    finally:
        writer.close()
        finished.set()
        if own_backend and backend is not None and hasattr(backend, "close"):
            backend.close()  # type: ignore[union-attr]
        summary.seconds = time.monotonic() - started
    write_meta(output, "sample", {**meta_base, "n": config.n, "problems": config.problems,
                                  "problem_count": summary.problems, "samples_written": summary.written,
                                  "excluded_exemplars": summary.excluded,
                                  "shard": list(config.shard) if config.shard else None, "stop": list(stop)})
    if verifier is not None:
        summary.verified = verifier.result()
    return summary


def _check_context(backend: Backend, prompt: PromptFormat, config: SampleConfig, problems: list[Any]) -> None:
    """Before the first sample: the longest questions' prompts, with room for max_new_tokens."""
    longest = sorted(problems, key=lambda p: len(p.question), reverse=True)[:MEASURED]

    def prompts_with(k: int) -> list[tuple[str, Any]]:
        fewer = with_exemplars(prompt, k)
        plan = plan_prompts(fewer, config.endpoint, backend, config.stop)
        return list(zip((p.task_id for p in longest), plan.prompts([p.question for p in longest])))

    check_prompts_fit(backend, prompts_with, shot_count(prompt), config.max_new_tokens)


class _Verifier(threading.Thread):
    """Verify the samples file while it is being written (resuming whatever was verified)."""

    def __init__(self, config: SampleConfig, finished: threading.Event):
        super().__init__(name="ekt-verify", daemon=True)
        from ekt_curate.stages.verify import VerifyConfig

        self.verify_config = VerifyConfig(input=config.output, policy=config.verify_policy, workers=config.workers,
                                          resume=config.resume, overwrite=not config.resume)
        self.finished = finished
        self.summary: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        from ekt_curate.stages.verify import run_verify

        try:
            self.summary = run_verify(self.verify_config, follow=self.finished.is_set, warn=lambda message: None)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            self.error = exc

    def result(self) -> Any:
        self.join()
        if self.error is not None:
            raise self.error
        return self.summary


def _start_verifier(config: SampleConfig, finished: threading.Event) -> _Verifier:
    if not config.output.exists():
        config.output.touch()
    verifier = _Verifier(config, finished)
    verifier.start()
    return verifier
