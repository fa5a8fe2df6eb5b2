"""`ekt-curate expert-iteration`: the student grows its own verified data, round by round.

    round 0: train a student from the base model on the seed pool (curated teacher programs)
    round r: that student samples n programs for every problem the pool does not solve yet;
             they are verified and deduplicated; passing ones join the pool; a fresh student is
             trained from the base model on the larger pool (Anthony et al. 2017; Polu et al. 2022)

Everything a round writes lives in ``workdir/round-r/``; a completed round leaves
``round.json`` and is skipped when the command runs again, so an interrupted run continues.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ekt_curate.errors import EktError
from ekt_curate.jsonl import LineWriter, iter_records, open_input


@dataclass(frozen=True)
class ExpertIterationConfig:
    seed: Path                      # curated JSONL (output of dedup): the round-0 pool
    model: str                      # the base student every round starts from
    workdir: Path
    problems: str = "gsm8k:train"
    rounds: int = 3
    n: int = 8
    limit: int | None = None
    temperature: float = 0.6
    max_new_tokens: int = 256
    train_config: Path | None = None
    train_overrides: dict[str, Any] = field(default_factory=dict)
    policy: str = "default"
    workers: int | None = None


def _solved(pool: Path) -> set[str]:
    return {str(r["task_id"]) for r in iter_records(pool) if (r.get("verdict") or {}).get("passed", True)}


def _train(config: ExpertIterationConfig, pool: Path, folder: Path) -> Path:
    from ekt_curate.stages.publish import PublishConfig, run_publish
    from ekt_curate.stages.train import TrainConfig, run_train

    run_publish(PublishConfig(input=pool, name="dataset", out=folder, overwrite=True, problems=config.problems))
    student = folder / "student"
    run_train(TrainConfig(dataset=folder / "dataset", model=config.model, output_dir=student,
                          config=config.train_config, overrides=config.train_overrides))
    return student


def run_expert_iteration(config: ExpertIterationConfig, say: Any = print) -> list[dict[str, Any]]:
    from ekt_curate.problems import iter_problems

    if config.rounds < 1 or config.n < 1:
        raise EktError("--rounds and -n must be at least 1")
    open_input(config.seed)
    problems = list(iter_problems(config.problems))[: config.limit]
    config.workdir.mkdir(parents=True, exist_ok=True)
    history: list[dict[str, Any]] = []
    pool = config.seed
    for number in range(config.rounds + 1):
        folder = config.workdir / f"round-{number}"
        done = folder / "round.json"
        if done.exists():
            record = json.loads(done.read_text())
            history.append(record)
            pool = Path(record["pool"])
            say(f"round {number}: done before ({record['solved']:,} problems solved), skipped")
            continue
        folder.mkdir(parents=True, exist_ok=True)
        record: dict[str, Any] = {"round": number}
        if number > 0:
            solved = _solved(pool)
            unsolved = [p for p in problems if p.task_id not in solved]
            student = config.workdir / f"round-{number - 1}" / "student"
            pool, added = _grow(config, student, unsolved, pool, folder)
            record.update(sampled_problems=len(unsolved), added=added)
            say(f"round {number}: the student sampled {len(unsolved):,} unsolved problems, "
                f"{added:,} new verified programs")
        _train(config, pool, folder)
        # Count over the problem set only: a seed pool may hold tasks outside it (--limit, another split).
        pool_tasks = _solved(pool)
        record.update(pool=str(pool), solved=len(pool_tasks & {p.task_id for p in problems}), problems=len(problems),
                      pool_tasks_outside_problems=len(pool_tasks - {p.task_id for p in problems}))
        done.write_text(json.dumps(record, indent=2) + "\n")
        history.append(record)
        say(f"round {number}: student trained on a pool solving {record['solved']:,} problems -> {folder / 'student'}")
    return history


def _grow(config: ExpertIterationConfig, student: Path, unsolved: list[Any], pool: Path,
          folder: Path) -> tuple[Path, int]:
    """The student samples the unsolved problems; verified, deduplicated programs join the pool."""
    from ekt_curate.stages.dedup import DedupConfig, run_dedup
    from ekt_curate.stages.evaluate import STUDENT_STOP
    from ekt_curate.stages.sample import SampleConfig, run_sample
    from ekt_curate.stages.verify import VerifyConfig, run_verify

    new_pool = folder / "pool.jsonl"
    new_pool.unlink(missing_ok=True)
    writer = LineWriter(new_pool)
    for row in iter_records(pool):
        writer.write(row)
    added = 0
    if unsolved:
        problems_file = folder / "unsolved.jsonl"
        problems_file.unlink(missing_ok=True)
        listing = LineWriter(problems_file)
        for problem in unsolved:
            listing.write({"task_id": problem.task_id, "question": problem.question, "gold": problem.gold})
        listing.close()
        prompt = folder / "student_prompt.txt"
        template = student / "prompt_template.txt"
        prompt.write_text(template.read_text(encoding="utf-8") if template.exists() else "{question}\n")
        samples = folder / "samples.jsonl"
        run_sample(SampleConfig(problems=str(problems_file), model=str(student), output=samples, n=config.n,
                                prompt=str(prompt), temperature=config.temperature,
                                max_new_tokens=config.max_new_tokens, stop=STUDENT_STOP, include_exemplars=True,
                                overwrite=True))
        verified = run_verify(VerifyConfig(input=samples, policy=config.policy, workers=config.workers,
                                           overwrite=True), warn=lambda message: None)
        curated = run_dedup(DedupConfig(input=verified.output, overwrite=True))
        for row in iter_records(curated.output):
            writer.write(row)
            added += 1
    writer.close()
    return new_pool, added
