"""``ekt-curate verify INPUT --executor local|slurm|ray --tasks N``: verify on datatrove, then merge.

Work folder and resume: ekt_curate/distributed/ranks.py; each rank writes
``ranks/OUTPUT_STEM.shard-R-of-N.jsonl``, its ``.rejects.jsonl`` and ``.meta.json``.

Rank R verifies the lines ``verify --shard R/N`` would. When every rank is complete, they are
merged into OUTPUT (and its rejects), the file a single-machine ``ekt-curate verify`` writes,
apart from the timing fields. ``--resume`` skips the ranks datatrove marked complete; a rank
that was killed runs again from its start. With Slurm the command submits the array and
returns; the same command with ``--resume`` after the job ends merges.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ekt_curate.distributed.executors import ExecutorConfig
from ekt_curate.distributed.merge import merge_ranks
from ekt_curate.distributed.readers import SampleLinesReader
from ekt_curate.distributed.verify_step import VerifySamples
from ekt_curate.distributed.ranks import prepare, rank_output, run_ranks, workdir_of
from ekt_curate.distributed.writers import VerdictWriter, rejects_of
from ekt_curate.errors import EktError
from ekt_curate.output_lock import OutputLock
from ekt_curate.provenance import meta_path
from ekt_curate.stages.verify import VerifyConfig, output_paths


@dataclass
class DistributedVerifySummary:
    output: Path
    rejects: Path
    workdir: Path
    tasks: int
    skipped_ranks: int = 0            # completed by an earlier run
    merged: bool = False              # False: Slurm job submitted, not finished yet
    samples: int = 0
    rejected: int = 0
    seconds: float = 0.0
    job_id: str | None = None


def verify_pipeline(config: VerifyConfig, output: Path, ranks_dir: Path, sandbox_workers: int | None) -> list:
    verify = VerifySamples.from_config(config, sandbox_workers)
    return [SampleLinesReader(config.input), verify, VerdictWriter(ranks_dir, output, config.input, verify)]


def run_verify_distributed(config: VerifyConfig, executor: ExecutorConfig,
                           warn: Callable[[str], None] = lambda message: print(message, file=sys.stderr)
                           ) -> DistributedVerifySummary:
    if config.shard:
        raise EktError("--shard and --executor do not combine: the executor splits the input into --tasks ranks")
    output, rejects = output_paths(config)
    if config.input.resolve() in (output.resolve(), rejects.resolve()):
        raise EktError(f"{output}: the output would overwrite the input")
    workdir = workdir_of(output)
    sandbox_workers = config.workers if executor.kind == "local" and config.workers else executor.sandbox_workers()
    pipeline = verify_pipeline(config, output, workdir / "ranks", sandbox_workers)  # checks input and prelude
    if config.problems:  # a bad source fails here, in one line, not in every rank
        from ekt_curate.stages.verify import load_references

        load_references(config)
    with OutputLock(output, warn):  # one run per output, as verify: a second would share the ranks
        return _run(config, executor, pipeline, output, rejects, workdir, sandbox_workers, warn)


def _run(config: VerifyConfig, executor: ExecutorConfig, pipeline: list, output: Path, rejects: Path,
         workdir: Path, sandbox_workers: int, warn: Callable[[str], None]) -> DistributedVerifySummary:
    prepare(workdir, output, (output, rejects_of(output), meta_path(output)), _settings(config, executor),
            config.resume, config.overwrite)
    summary = DistributedVerifySummary(output, rejects, workdir, executor.tasks)
    started = time.monotonic()
    ran = run_ranks(pipeline, executor, workdir)
    summary.skipped_ranks, summary.job_id = ran.skipped, ran.job_id
    if ran.job_id is not None:
        return summary
    ranks = [rank_output(workdir / "ranks", output, rank, executor.tasks) for rank in range(executor.tasks)]
    summary.samples, summary.rejected = merge_ranks(ranks, output, {
        **executor.describe(), "sandbox_workers_per_task": sandbox_workers,
        "logging_dir": str(workdir / "logs"), "ranks_skipped_as_complete": summary.skipped_ranks}, warn)
    summary.seconds = time.monotonic() - started
    summary.merged = True
    return summary


def _settings(config: VerifyConfig, executor: ExecutorConfig) -> dict[str, object]:
    return {"input": str(config.input), "tasks": executor.tasks, "policy": config.policy,
            "answer": config.answer, "rel_tol": config.rel_tol, "gold_precision": config.gold_precision,
            "checker": config.checker, "problems": config.problems, "fields": vars(config.fields),
            "prelude": str(config.prelude) if config.prelude else None}
