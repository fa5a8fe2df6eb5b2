"""`ekt-curate run pipeline.yaml`: sample -> verify -> dedup -> stats -> publish -> train -> eval.

One YAML file, typed and checked (an unknown key is an error naming the known ones). Every
stage writes into ``workdir``; after a stage completes, its fingerprint (its own settings and
its input's fingerprint) goes into ``workdir/pipeline.state.json``. Running the file again
skips every stage whose fingerprint and outputs are still there, resumes the stages that can
(sample, verify, train) and redoes the rest: change one setting and only that stage and the
ones after it run again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.dataclasses import dataclass

from ekt_curate.distributed.executors import ExecutorConfig  # a dataclass: imports nothing of datatrove
from ekt_curate.errors import EktError
from ekt_curate.fields import FieldNames
from ekt_curate.provenance import stage_command
from ekt_curate.stages.dedup import DedupConfig
from ekt_curate.stages.evaluate import EvalConfig
from ekt_curate.stages.publish import PublishConfig
from ekt_curate.stages.publish_card import LANGUAGE, LICENSE, TAG
from ekt_curate.stages.sample import SampleConfig
from ekt_curate.stages.stage_commands import command_for
from ekt_curate.stages.train import TrainConfig
from ekt_curate.stages.verify import VerifyConfig
from ekt_curate.yaml_files import load_mapping


# Each section's keys are typed and ranged, and an unknown key is refused, by pydantic where the
# file is read: `n: "four"`, `temperature: hot` or a misspelt key is one line naming the file,
# the key and what it takes, not a traceback mid-run. Defaults that a stage also has are read
# from the stage's config (one place for each), so the YAML and the CLI cannot drift apart.
_SECTION = ConfigDict(extra="forbid")


def _not_a_bool(value: Any) -> Any:
    # pydantic reads true as 1 for an int, and YAML 1.1 reads `yes` as true: `n: true` would
    # sample once and `threshold: yes` dedup at 1.0. A number is written as a number (or text).
    if isinstance(value, bool):
        raise ValueError("expected a number, not true/false")
    return value


Int = Annotated[int, BeforeValidator(_not_a_bool)]
Float = Annotated[float, BeforeValidator(_not_a_bool)]
Count = Annotated[Int, Field(ge=1)]
Fraction = Annotated[Float, Field(ge=0, lt=1)]


def _default(config: type, name: str) -> Any:
    return next(f.default for f in dataclasses.fields(config) if f.name == name)


@dataclass(frozen=True, config=_SECTION)
class TeacherSection:
    backend: Literal["annotations", "transformers", "vllm", "openai"] = "annotations"  # annotations: offline stand-in
    model: str | None = None
    n: Count = 4
    prompt: str = _default(SampleConfig, "prompt")
    exemplars: Annotated[Int, Field(ge=0)] | None = None  # the prompt's first K shots (default: all)
    temperature: Annotated[Float, Field(ge=0, le=5)] = _default(SampleConfig, "temperature")
    top_p: Annotated[Float, Field(gt=0, le=1)] = _default(SampleConfig, "top_p")
    max_new_tokens: Count = _default(SampleConfig, "max_new_tokens")
    stop: list[str] | None = None  # default: the prompt format's
    seed: Int = _default(SampleConfig, "seed")
    batch_size: Count | None = None  # transformers: sequences per generate call (default: fit GPU memory)
    include_exemplars: bool = False
    base_url: str | None = None    # openai
    api_key_env: str = _default(SampleConfig, "api_key_env")
    concurrency: Count = _default(SampleConfig, "concurrency")
    max_retries: Annotated[Int, Field(ge=0)] = _default(SampleConfig, "max_retries")
    endpoint: Literal["completions", "chat"] | None = None  # openai: which route; transformers, vllm: chat template
    seeding: Literal["sample", "none"] = "sample"           # sample: each sample its own seed | none
    engine_args: dict[str, Any] = field(default_factory=dict)   # vllm: EngineArgs fields, e.g. max_model_len


@dataclass(frozen=True, config=_SECTION)
class VerifySection:
    policy: str = _default(VerifyConfig, "policy")
    workers: Count | None = None
    answer: str = _default(VerifyConfig, "answer")  # auto | solution | stdout | var:NAME
    prelude: Path | None = None                      # relative to the pipeline file
    rel_tol: Fraction = _default(VerifyConfig, "rel_tol")
    gold_precision: Literal["auto", "always", "off"] = _default(VerifyConfig, "gold_precision")
    checker: Literal["strict", "math-verify"] = _default(VerifyConfig, "checker")


@dataclass(frozen=True, config=_SECTION)
class DedupSection:
    threshold: Annotated[Float, Field(gt=0, le=1)] = _default(DedupConfig, "threshold")
    num_perm: Annotated[Int, Field(ge=16)] = _default(DedupConfig, "num_perm")
    max_per_task: Count | None = None
    keep_failed: bool = False


@dataclass(frozen=True, config=_SECTION)
class StatsSection:
    # None: those of 1, 10, 100 that every task has samples for (as `ekt-curate stats` without --k)
    k: Annotated[list[Count], Field(min_length=1)] | None = None


@dataclass(frozen=True, config=_SECTION)
class PublishSection:
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")] = "ekt-dataset"
    validation_fraction: Fraction = _default(PublishConfig, "validation_fraction")
    push_to_hub: Annotated[str, Field(pattern=r"^[^/\s]+/[^/\s]+$")] | None = None  # ORG/NAME
    private: bool = False
    prompt_template: Path | None = None   # the student's prompt with {question}; relative to the pipeline file
    license: Annotated[str, Field(pattern=LICENSE)] | None = None       # None: the source's if known, else unknown
    language: Annotated[list[Annotated[str, Field(pattern=LANGUAGE)]], Field(min_length=1)] | None = None
    tags: list[Annotated[str, Field(pattern=TAG)]] | None = None        # None: the default tags
    messages: bool = _default(PublishConfig, "messages")                # also a messages column (own config)


@dataclass(frozen=True, config=_SECTION)
class TrainSection:
    model: str = "tiny"             # "tiny": a small random model built locally (CPU demo); else a path or Hub id
    config: dict[str, Any] = field(default_factory=dict)   # SFTConfig fields
    method: Literal["sft", "kd"] = _default(TrainConfig, "method")
    teacher: str | None = None      # kd: the teacher, sharing the student's tokenizer
    kd_beta: Annotated[Float, Field(ge=0, le=1)] = _default(TrainConfig, "kd_beta")
    kd_lm_weight: Annotated[Float, Field(ge=0)] = _default(TrainConfig, "kd_lm_weight")


@dataclass(frozen=True, config=_SECTION)
class EvalSection:
    problems: str = _default(EvalConfig, "problems")
    limit: Count | None = None
    n: Count = _default(EvalConfig, "n")
    k: Annotated[list[Count], Field(min_length=1)] = field(default_factory=lambda: list(_default(EvalConfig, "ks")))
    temperature: Annotated[Float, Field(ge=0, le=5)] = _default(EvalConfig, "temperature")
    greedy: bool = False
    max_new_tokens: Count = _default(EvalConfig, "max_new_tokens")
    backend: Literal["transformers", "vllm"] = _default(EvalConfig, "backend")


@dataclass(frozen=True, config=_SECTION)
class Pipeline:
    workdir: Path
    problems: str = "gsm8k:train"
    limit: Count | None = None
    id_field: str = "task_id"        # where the problems keep their id, question and gold (sample, verify, publish)
    gold_field: str = "gold"
    question_field: str = "question"
    teacher: TeacherSection = field(default_factory=TeacherSection)
    verify: VerifySection = field(default_factory=VerifySection)
    dedup: DedupSection = field(default_factory=DedupSection)
    stats: StatsSection = field(default_factory=StatsSection)
    publish: PublishSection = field(default_factory=PublishSection)
    train: TrainSection | None = field(default_factory=TrainSection)
    eval: EvalSection | None = field(default_factory=EvalSection)
    executor: ExecutorConfig | None = None   # verify on datatrove (local, slurm, ray); None: this process

    def fields(self) -> FieldNames:
        return FieldNames(id=self.id_field, gold=self.gold_field, question=self.question_field)


SECTIONS = {"teacher": TeacherSection, "verify": VerifySection, "dedup": DedupSection, "stats": StatsSection,
            "publish": PublishSection, "train": TrainSection, "eval": EvalSection, "executor": ExecutorConfig}
STAGES = ("sample", "verify", "dedup", "stats", "publish", "train", "eval")
PATHS = (("verify", "prelude"), ("publish", "prompt_template"))  # relative to the pipeline file


def load_pipeline(path: Path, overrides: dict[str, Any] | None = None) -> Pipeline:
    raw = load_mapping(path, "pipeline")
    for key, value in (overrides or {}).items():  # demo: a section's keys override the file's, not the section
        raw[key] = {**raw[key], **value} if isinstance(value, dict) and isinstance(raw.get(key), dict) else value
    if isinstance(raw.get("workdir"), str):
        raw["workdir"] = _beside(path, raw["workdir"])
    if isinstance(raw.get("problems"), str) and not raw["problems"].startswith(("gsm8k:", "hf:")):
        raw["problems"] = _beside(path, raw["problems"])  # a file or folder, like every other path here
    if isinstance(raw.get("eval"), dict) and isinstance(raw["eval"].get("problems"), str) \
            and not raw["eval"]["problems"].startswith(("gsm8k:", "hf:")):
        raw["eval"] = {**raw["eval"], "problems": _beside(path, raw["eval"]["problems"])}
    for section, key in PATHS:
        if isinstance(raw.get(section), dict) and isinstance(raw[section].get(key), str):
            raw[section] = {**raw[section], key: _beside(path, raw[section][key])}
    executor = raw.pop("executor", None)
    try:
        pipeline = Pipeline(**raw)
    except ValidationError as exc:
        raise EktError(f"{path}: {_one_line(exc)}") from None
    except TypeError as exc:  # not a mapping of keys to values at the top
        raise EktError(f"{path}: {exc}") from None
    if executor is not None:  # ExecutorConfig (ekt_curate/distributed) checks its own values
        if not isinstance(executor, dict):
            raise EktError(f"{path}: executor: expected a mapping of keys to values, got {executor!r}")
        known = {f.name for f in dataclasses.fields(ExecutorConfig)}
        if set(executor) - known:
            raise EktError(f"{path}: unknown key(s) {', '.join(f'executor.{k}' for k in sorted(set(executor) - known))}"
                           f" (known: {', '.join(sorted(known))})")
        try:
            pipeline = dataclasses.replace(pipeline, executor=ExecutorConfig(**executor))
        except EktError as exc:
            raise EktError(f"{path}: {exc}") from None
    return pipeline


def _beside(pipeline_file: Path, text: str) -> str:
    """A relative path in a pipeline file is relative to that file, wherever it is run from."""
    given = Path(text).expanduser()
    return str(given if given.is_absolute() else (pipeline_file.parent / given).resolve())


def _one_line(error: ValidationError) -> str:
    """pydantic's first complaint as 'KEY: what it takes, got VALUE' (how many more follow, if any)."""
    problems = error.errors()
    first = problems[0]
    key = ".".join(str(part) for part in first["loc"])
    more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
    if first["type"] in ("unexpected_keyword_argument", "extra_forbidden"):
        section = SECTIONS.get(str(first["loc"][0])) if len(first["loc"]) > 1 else Pipeline
        known = sorted(f.name for f in dataclasses.fields(section)) if section else []
        return f"unknown key(s) {key} (known: {', '.join(known)}){more}"
    if first["type"] in ("missing", "missing_argument"):
        return f"'{key}' is required{more}"
    message = first["msg"][0].lower() + first["msg"][1:]
    if first["type"] == "dataclass_type":
        message = "expected a mapping of keys to values"
    return f"{key}: {message}, got {first['input']!r}{more}"


def _fingerprint(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


class _State:
    def __init__(self, workdir: Path):
        self.path = workdir / "pipeline.state.json"
        self.data: dict[str, str] = json.loads(self.path.read_text()) if self.path.exists() else {}

    def done(self, stage: str, fingerprint: str, *outputs: Path) -> bool:
        return self.data.get(stage) == fingerprint and all(p.exists() for p in outputs)

    def mark(self, stage: str, fingerprint: str) -> None:
        self.data[stage] = fingerprint
        self.path.write_text(json.dumps(self.data, indent=2) + "\n")


def run_pipeline(pipeline: Pipeline, say: Any = print, quiet: bool = False) -> dict[str, Any]:
    from ekt_curate.stages.dedup import DedupConfig, run_dedup
    from ekt_curate.stages.publish import PublishConfig, run_publish
    from ekt_curate.stages.stats import run_stats
    from ekt_curate.stages.verify import VerifyConfig, run_verify

    work = pipeline.workdir
    work.mkdir(parents=True, exist_ok=True)
    state = _State(work)
    samples, verified, curated = work / "samples.jsonl", work / "samples.verified.jsonl", work / "samples.curated.jsonl"
    results: dict[str, Any] = {}

    def stage(number: int, name: str, fingerprint: str, outputs: list[Path]) -> bool:
        label = f"[{number}/{len(STAGES)}] {name}"
        if state.done(name, fingerprint, *outputs):
            say(f"{label}: up to date, skipped")
            return False
        say(f"{label}: running")
        return True

    sample_fp = _fingerprint(pipeline.problems, pipeline.limit, dataclasses.asdict(pipeline.teacher))
    if stage(1, "sample", sample_fp, [samples]):
        from ekt_curate.stages.pipeline_teacher import run_teacher

        if run_teacher(pipeline, samples, resume=state.data.get("sample") is None and samples.exists()) is False:
            say("      submitted a Slurm job for the samples; run the pipeline again when it has ended")
            return results
        state.mark("sample", sample_fp)
    verify_fp = _fingerprint(sample_fp, dataclasses.asdict(pipeline.verify))
    if pipeline.executor is not None and stage(2, "verify", verify_fp, [verified]):
        from ekt_curate.distributed.pipeline_stage import verify_on_executor

        if not verify_on_executor(pipeline, samples, verified, state.data.get("verify") is not None, say):
            return results  # a Slurm job is running: the next run of the pipeline merges and goes on
        state.mark("verify", verify_fp)
    elif pipeline.executor is None and stage(2, "verify", verify_fp, [verified]):
        verify_config = VerifyConfig(input=samples, output=verified, problems=pipeline.problems,
                                     policy=pipeline.verify.policy, workers=pipeline.verify.workers,
                                     answer=pipeline.verify.answer, rel_tol=pipeline.verify.rel_tol,
                                     gold_precision=pipeline.verify.gold_precision, checker=pipeline.verify.checker,
                                     prelude=pipeline.verify.prelude, fields=pipeline.fields(),
                                     resume=verified.exists() and state.data.get("verify") is None,
                                     overwrite=state.data.get("verify") is not None)
        with stage_command(command_for("verify", verify_config, work)):
            summary = run_verify(verify_config, warn=lambda m: None)
        say(f"      {summary.samples:,} samples, pass rate "
            f"{100 * summary.statuses.get('pass', 0) / max(summary.samples, 1):.1f}%")
        state.mark("verify", verify_fp)
    dedup_fp = _fingerprint(verify_fp, dataclasses.asdict(pipeline.dedup))
    if stage(3, "dedup", dedup_fp, [curated]):
        dedup_config = DedupConfig(input=verified, output=curated, threshold=pipeline.dedup.threshold,
                                   num_perm=pipeline.dedup.num_perm, max_per_task=pipeline.dedup.max_per_task,
                                   keep_failed=pipeline.dedup.keep_failed, overwrite=True)
        if pipeline.executor is not None:  # on datatrove, ranks by task (ekt_curate/distributed)
            from ekt_curate.distributed.pipeline_stage import dedup_on_executor

            kept = dedup_on_executor(pipeline, dedup_config, state.data.get("dedup") is not None, say)
            if kept is None:
                return results  # a Slurm job is running: the next run of the pipeline merges and goes on
        else:
            with stage_command(command_for("dedup", dedup_config, work)):
                kept = run_dedup(dedup_config)
        say(f"      kept {kept.kept:,} of {kept.read:,}")
        state.mark("dedup", dedup_fp)
    stats_fp = _fingerprint(dedup_fp, dataclasses.asdict(pipeline.stats))
    if stage(4, "stats", stats_fp, [work / "stats.json", work / "report.html"]):
        ks = tuple(pipeline.stats.k) if pipeline.stats.k else None
        run_stats(verified, ks, compare=curated, json_path=work / "stats.json", html_path=work / "report.html",
                  show=False)
        say(f"      {work / 'report.html'}")
        state.mark("stats", stats_fp)
    dataset = work / pipeline.publish.name
    publish_fp = _fingerprint(dedup_fp, dataclasses.asdict(pipeline.publish))
    if stage(5, "publish", publish_fp, [dataset / "README.md"]):
        publish_config = PublishConfig(input=curated, name=pipeline.publish.name, out=work,
                                       validation_fraction=pipeline.publish.validation_fraction,
                                       push_to_hub=pipeline.publish.push_to_hub, private=pipeline.publish.private,
                                       problems=pipeline.problems, fields=pipeline.fields(), overwrite=True,
                                       license=pipeline.publish.license, messages=pipeline.publish.messages,
                                       language=_tuple(pipeline.publish.language), tags=_tuple(pipeline.publish.tags),
                                       **_template(pipeline.publish.prompt_template))
        # the command names the template's file, where the config holds its text
        with stage_command(command_for("publish", publish_config, work,
                                       prompt_template=pipeline.publish.prompt_template)):
            run_publish(publish_config)
        say(f"      {dataset}")
        state.mark("publish", publish_fp)
    results["dataset"] = dataset
    if pipeline.train is None:
        return results
    run_dir = work / "student"
    train_fp = _fingerprint(publish_fp, dataclasses.asdict(pipeline.train))
    if stage(6, "train", train_fp, [run_dir / "ekt_train_config.json"]):
        from ekt_curate.stages.train import TrainConfig, run_train

        base = pipeline.train.model
        if base == "tiny":
            from ekt_curate.tiny_model import build_tiny_model

            base = str(build_tiny_model(work / "tiny-base-model"))
        summary = run_train(TrainConfig(dataset=dataset, model=base, output_dir=run_dir,
                                        overrides=pipeline.train.config, method=pipeline.train.method,
                                        teacher=pipeline.train.teacher, kd_beta=pipeline.train.kd_beta,
                                        kd_lm_weight=pipeline.train.kd_lm_weight, quiet=quiet))
        say(f"      {summary.steps:,} steps, loss {summary.first_loss or 0:.3f} -> {summary.last_loss or 0:.3f}")
        state.mark("train", train_fp)
    results["student"] = run_dir
    if pipeline.eval is None:
        return results
    evaluation = pipeline.eval
    eval_fp = _fingerprint(train_fp, dataclasses.asdict(evaluation))
    eval_folder = work / "eval"
    if stage(7, "eval", eval_fp, [eval_folder / "stats.json"]):
        from ekt_curate.stages.evaluate import EvalConfig, run_eval

        result = run_eval(EvalConfig(model=str(run_dir), problems=evaluation.problems, n=evaluation.n,
                                     ks=tuple(evaluation.k), temperature=evaluation.temperature,
                                     greedy=evaluation.greedy, max_new_tokens=evaluation.max_new_tokens,
                                     out=eval_folder, limit=evaluation.limit, policy=pipeline.verify.policy,
                                     workers=pipeline.verify.workers, backend=evaluation.backend, quiet=True))
        shown = ", ".join(f"pass@{k} {'n/a' if v is None else f'{100 * v:.1f}%'}" for k, v in result["pass_at_k"].items())
        say(f"      student on {evaluation.problems}: {shown}")
        state.mark("eval", eval_fp)
    results["eval"] = eval_folder
    return results


def _tuple(items: list[str] | None) -> tuple[str, ...] | None:
    return None if items is None else tuple(items)


def _template(path: Path | None) -> dict[str, str]:
    """publish's prompt_template: the file's text, read now (PublishConfig takes the template itself)."""
    if path is None:
        return {}
    from ekt_curate.prompts import load_template

    return {"prompt_template": load_template(path)}
