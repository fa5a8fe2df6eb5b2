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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ekt_curate.distributed.executors import ExecutorConfig  # a dataclass: imports nothing of datatrove
from ekt_curate.errors import EktError
from ekt_curate.yaml_files import load_mapping


@dataclass(frozen=True)
class TeacherSection:
    backend: str = "annotations"   # annotations (offline stand-in) | transformers | vllm | openai
    model: str | None = None
    n: int = 4
    prompt: str = "pal"
    temperature: float = 0.6
    top_p: float = 1.0
    max_new_tokens: int = 256
    base_url: str | None = None
    seed: int = 0


@dataclass(frozen=True)
class VerifySection:
    policy: str = "default"
    workers: int | None = None
    answer: str = "auto"
    rel_tol: float = 1e-4           # the same options as `ekt-curate verify`; VerifyConfig validates them
    gold_precision: str = "auto"    # auto | always | off
    checker: str = "strict"         # strict | math-verify


@dataclass(frozen=True)
class DedupSection:
    threshold: float = 0.85
    num_perm: int = 128
    max_per_task: int | None = None


@dataclass(frozen=True)
class StatsSection:
    k: list[int] = field(default_factory=lambda: [1, 10, 100])


@dataclass(frozen=True)
class PublishSection:
    name: str = "ekt-dataset"
    validation_fraction: float = 0.0
    push_to_hub: str | None = None
    private: bool = False


@dataclass(frozen=True)
class TrainSection:
    model: str = "tiny"             # "tiny": a small random model built locally (CPU demo); else a path or Hub id
    config: dict[str, Any] = field(default_factory=dict)   # SFTConfig fields


@dataclass(frozen=True)
class EvalSection:
    problems: str = "gsm8k:test"
    limit: int | None = None
    n: int = 100
    k: list[int] = field(default_factory=lambda: [1, 10, 100])
    temperature: float = 0.6
    greedy: bool = False
    max_new_tokens: int = 256


@dataclass(frozen=True)
class Pipeline:
    workdir: Path
    problems: str = "gsm8k:train"
    limit: int | None = None
    teacher: TeacherSection = field(default_factory=TeacherSection)
    verify: VerifySection = field(default_factory=VerifySection)
    dedup: DedupSection = field(default_factory=DedupSection)
    stats: StatsSection = field(default_factory=StatsSection)
    publish: PublishSection = field(default_factory=PublishSection)
    train: TrainSection | None = field(default_factory=TrainSection)
    eval: EvalSection | None = field(default_factory=EvalSection)
    executor: ExecutorConfig | None = None   # verify on datatrove (local, slurm, ray); None: this process


SECTIONS = {"teacher": TeacherSection, "verify": VerifySection, "dedup": DedupSection, "stats": StatsSection,
            "publish": PublishSection, "train": TrainSection, "eval": EvalSection, "executor": ExecutorConfig}
STAGES = ("sample", "verify", "dedup", "stats", "publish", "train", "eval")


def load_pipeline(path: Path, overrides: dict[str, Any] | None = None) -> Pipeline:
    raw = load_mapping(path, "pipeline")
    raw.update(overrides or {})
    known = {f.name for f in dataclasses.fields(Pipeline)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise EktError(f"{path}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    if "workdir" not in raw:
        raise EktError(f"{path}: 'workdir' is required")
    workdir = Path(str(raw["workdir"]))
    values: dict[str, Any] = {"workdir": workdir if workdir.is_absolute() else (path.parent / workdir).resolve()}
    for key in ("problems", "limit"):
        if key in raw:
            values[key] = raw[key]
    for name, cls in SECTIONS.items():
        if name not in raw:
            continue
        section = raw[name]
        if section is None and name in ("train", "eval"):
            values[name] = None  # leave the stage out
            continue
        if not isinstance(section, dict):
            raise EktError(f"{path}: '{name}' must be a mapping")
        fields = {f.name for f in dataclasses.fields(cls)}
        bad = sorted(set(section) - fields)
        if bad:
            raise EktError(f"{path}: unknown key(s) {', '.join(f'{name}.{b}' for b in bad)} "
                           f"(known: {', '.join(sorted(fields))})")
        values[name] = cls(**section)
    return Pipeline(**values)


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


def run_pipeline(pipeline: Pipeline, say: Any = print) -> dict[str, Any]:
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
        _run_teacher(pipeline, samples, resume=state.data.get("sample") is None and samples.exists())
        state.mark("sample", sample_fp)
    verify_fp = _fingerprint(sample_fp, dataclasses.asdict(pipeline.verify))
    if pipeline.executor is not None and stage(2, "verify", verify_fp, [verified]):
        from ekt_curate.distributed.pipeline_stage import verify_on_executor

        if not verify_on_executor(pipeline, samples, verified, state.data.get("verify") is not None, say):
            return results  # a Slurm job is running: the next run of the pipeline merges and goes on
        state.mark("verify", verify_fp)
    elif pipeline.executor is None and stage(2, "verify", verify_fp, [verified]):
        summary = run_verify(VerifyConfig(input=samples, problems=pipeline.problems, policy=pipeline.verify.policy,
                                          workers=pipeline.verify.workers, answer=pipeline.verify.answer,
                                          rel_tol=pipeline.verify.rel_tol, gold_precision=pipeline.verify.gold_precision,
                                          checker=pipeline.verify.checker,
                                          resume=verified.exists() and state.data.get("verify") is None,
                                          overwrite=state.data.get("verify") is not None), warn=lambda m: None)
        say(f"      {summary.samples:,} samples, pass rate "
            f"{100 * summary.statuses.get('pass', 0) / max(summary.samples, 1):.1f}%")
        state.mark("verify", verify_fp)
    dedup_fp = _fingerprint(verify_fp, dataclasses.asdict(pipeline.dedup))
    if stage(3, "dedup", dedup_fp, [curated]):
        kept = run_dedup(DedupConfig(input=verified, threshold=pipeline.dedup.threshold,
                                     num_perm=pipeline.dedup.num_perm, max_per_task=pipeline.dedup.max_per_task,
                                     overwrite=True))
        say(f"      kept {kept.kept:,} of {kept.read:,}")
        state.mark("dedup", dedup_fp)
    stats_fp = _fingerprint(dedup_fp, dataclasses.asdict(pipeline.stats))
    if stage(4, "stats", stats_fp, [work / "stats.json", work / "report.html"]):
        run_stats(verified, tuple(pipeline.stats.k), compare=curated, json_path=work / "stats.json",
                  html_path=work / "report.html", show=False)
        say(f"      {work / 'report.html'}")
        state.mark("stats", stats_fp)
    dataset = work / pipeline.publish.name
    publish_fp = _fingerprint(dedup_fp, dataclasses.asdict(pipeline.publish))
    if stage(5, "publish", publish_fp, [dataset / "README.md"]):
        run_publish(PublishConfig(input=curated, name=pipeline.publish.name, out=work,
                                  validation_fraction=pipeline.publish.validation_fraction,
                                  push_to_hub=pipeline.publish.push_to_hub, private=pipeline.publish.private,
                                  overwrite=True))
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
                                        overrides=pipeline.train.config))
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
                                     workers=pipeline.verify.workers, quiet=True))
        shown = ", ".join(f"pass@{k} {'n/a' if v is None else f'{100 * v:.1f}%'}" for k, v in result["pass_at_k"].items())
        say(f"      student on {evaluation.problems}: {shown}")
        state.mark("eval", eval_fp)
    results["eval"] = eval_folder
    return results


def _run_teacher(pipeline: Pipeline, output: Path, resume: bool) -> None:
    teacher = pipeline.teacher
    if teacher.backend == "annotations":
        from ekt_curate.annotation_teacher import samples as annotation_samples
        from ekt_curate.jsonl import LineWriter
        from ekt_curate.problems import iter_problems

        problems = list(iter_problems(pipeline.problems))[: pipeline.limit]
        output.unlink(missing_ok=True)  # deterministic and instant: always rewritten whole
        writer = LineWriter(output)
        for sample in annotation_samples(problems, teacher.n, seed=teacher.seed):
            writer.write(sample)
        writer.close()
        return
    if not teacher.model:
        raise EktError(f"teacher.model is required for the {teacher.backend} backend")
    from ekt_curate.stages.sample import SampleConfig, run_sample

    run_sample(SampleConfig(problems=pipeline.problems, model=teacher.model, output=output, n=teacher.n,
                            prompt=teacher.prompt, temperature=teacher.temperature, top_p=teacher.top_p,
                            max_new_tokens=teacher.max_new_tokens, backend=teacher.backend, seed=teacher.seed,
                            limit=pipeline.limit, base_url=teacher.base_url, resume=resume, overwrite=not resume))
