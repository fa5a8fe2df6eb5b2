"""`ekt-curate eval`: the student samples, the verifier checks, stats reports pass@k and coverage.

It reuses the sample, verify and stats stages, with the prompt the student was trained on
(``prompt_template.txt`` in its run directory). ``--greedy`` is one greedy sample per problem
(pass@1); ``--compare`` puts a teacher's verified file beside the student's in one table.
Every sample the student produced counts: an empty completion is a ``no_program`` failure in
pass@k and in the report, never a dropped line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ekt_curate.errors import EktError
from ekt_curate.prompts import DEFAULT_STUDENT_TEMPLATE

STUDENT_STOP = ("\nQuestion:",)


@dataclass(frozen=True)
class EvalConfig:
    model: str
    problems: str = "gsm8k:test"
    n: int = 100
    ks: tuple[int, ...] = (1, 10, 100)
    temperature: float = 0.6
    greedy: bool = False
    max_new_tokens: int = 256
    out: Path | None = None
    compare: Path | None = None
    limit: int | None = None
    backend: str = "transformers"   # transformers | vllm | openai (a served student)
    base_url: str | None = None     # openai backend
    policy: str = "default"
    workers: int | None = None
    resume: bool = False
    quiet: bool = False


def eval_dir(config: EvalConfig) -> Path:
    if config.out is not None:
        return config.out
    base = Path(config.model) if Path(config.model).is_dir() else Path("runs") / config.model.replace("/", "--")
    return base / f"eval-{config.problems.replace(':', '-').replace('/', '_')}{'-greedy' if config.greedy else ''}"


def run_eval(config: EvalConfig) -> dict[str, Any]:
    from ekt_curate.report import ProgressFactory
    from ekt_curate.stages.sample import SampleConfig, run_sample
    from ekt_curate.stages.stats import run_stats
    from ekt_curate.stages.verify import VerifyConfig, run_verify

    n, ks, temperature = (1, (1,), 0.0) if config.greedy else (config.n, config.ks, config.temperature)
    if any(k > n for k in ks):
        raise EktError(f"pass@{max(ks)} needs at least {max(ks)} samples per problem; -n is {n}")
    if config.backend == "transformers":
        from ekt_curate.model_loading import require_model

        require_model(config.model, "student model")  # one line, exit 4, before the eval folder is made
    folder = eval_dir(config)
    folder.mkdir(parents=True, exist_ok=True)
    template = Path(config.model) / "prompt_template.txt"
    prompt_file = folder / "student_prompt.txt"
    prompt_file.write_text(template.read_text(encoding="utf-8") if template.is_file() else DEFAULT_STUDENT_TEMPLATE,
                           encoding="utf-8")
    samples = folder / "samples.jsonl"
    with ProgressFactory("eval: sample", enabled=not config.quiet, unit="samples") as progress:
        run_sample(SampleConfig(problems=config.problems, model=config.model, output=samples, n=n,
                                prompt=str(prompt_file), temperature=temperature, max_new_tokens=config.max_new_tokens,
                                backend=config.backend, base_url=config.base_url, stop=STUDENT_STOP, include_exemplars=True,
                                limit=config.limit,
                                resume=config.resume and samples.exists(),
                                overwrite=not (config.resume and samples.exists())), progress)
    with ProgressFactory("eval: verify", enabled=not config.quiet) as progress:
        verified = run_verify(VerifyConfig(input=samples, policy=config.policy, workers=config.workers,
                                           overwrite=True), progress)
    runs = run_stats(verified.output, ks, compare=config.compare, json_path=folder / "stats.json",
                     html_path=folder / "report.html", show=not config.quiet)
    student = runs[0]
    return {"folder": folder, "pass_at_k": student.pass_at_k(), "coverage": student.coverage,
            "samples": student.samples, "tasks": student.tasks}
