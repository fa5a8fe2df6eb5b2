"""``ekt-curate verify INPUT --executor local|slurm|ray --tasks N``: verify on datatrove, then merge.

    OUTPUT_STEM.datatrove/
        run.json     the settings this run was started with (a resume must match them)
        ranks/       per rank: OUTPUT_STEM.shard-R-of-N.jsonl, .rejects.jsonl, .meta.json
        logs/        datatrove's logging_dir: completions/, logs/task_R.log, stats/, stats.json

Rank R verifies the lines ``verify --shard R/N`` would. When every rank is complete, they are
merged into OUTPUT (and its rejects), the file a single-machine ``ekt-curate verify`` writes,
apart from the timing fields. ``--resume`` skips the ranks datatrove marked complete; a rank
that was killed runs again from its start. With Slurm the command submits the array and
returns; the same command with ``--resume`` after the job ends merges.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ekt_curate.distributed.executors import ExecutorConfig, build_executor
from ekt_curate.distributed.merge import merge_ranks
from ekt_curate.distributed.readers import SampleLinesReader
from ekt_curate.distributed.verify_step import VerifySamples
from ekt_curate.distributed.writers import VerdictWriter, rank_output, rejects_of
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


def workdir_of(output: Path) -> Path:
    return output.with_name(output.name.removesuffix(".jsonl") + ".datatrove")


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
        from ekt_curate.problems import load_gold

        load_gold(config.problems, config.fields)
    with OutputLock(output, warn):  # one run per output, as verify: a second would share the ranks
        return _run(config, executor, pipeline, output, rejects, workdir, sandbox_workers, warn)


def _run(config: VerifyConfig, executor: ExecutorConfig, pipeline: list, output: Path, rejects: Path,
         workdir: Path, sandbox_workers: int, warn: Callable[[str], None]) -> DistributedVerifySummary:
    _prepare(config, executor, output, workdir)
    runner = build_executor(pipeline, executor, workdir / "logs")
    summary = DistributedVerifySummary(output, rejects, workdir, executor.tasks)
    summary.skipped_ranks = executor.tasks - len(runner.get_incomplete_ranks())
    started = time.monotonic()
    from ekt_curate.sandbox.errors import SandboxError

    try:
        runner.run()
    except (EktError, SandboxError):  # the CLI's own one-line errors and exit codes (3: a layer is missing)
        raise
    except Exception as exc:  # a rank failed: datatrove logged its traceback in the rank's log
        raise EktError(f"a rank failed ({type(exc).__name__}: {exc}); logs in {workdir / 'logs' / 'logs'}; "
                       f"--resume runs only the ranks not completed") from None
    if runner.get_incomplete_ranks():
        if executor.kind == "slurm":
            summary.job_id = str(getattr(runner, "job_id", None))
            return summary
        raise EktError(f"ranks {runner.get_incomplete_ranks()} did not complete; logs in {workdir / 'logs'}; "
                       f"--resume runs only those")
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


def _prepare(config: VerifyConfig, executor: ExecutorConfig, output: Path, workdir: Path) -> None:
    """Start fresh, or check a resume continues the same run (completions of a 4-rank split
    would skip the wrong lines of an 8-rank one)."""
    settings, state = _settings(config, executor), workdir / "run.json"
    if workdir.exists() and config.resume:
        try:
            before = json.loads(state.read_text())
        except (OSError, ValueError):
            raise EktError(f"{workdir}: no readable run.json, so it cannot be resumed; pass --overwrite") from None
        changed = [key for key in settings if before.get(key) != settings[key]]
        if changed:
            raise EktError(f"{workdir} was started with different {', '.join(changed)} "
                           f"({', '.join(f'{before.get(k)!r} vs {settings[k]!r}' for k in changed)}); "
                           f"pass --overwrite to start again")
        return
    if config.resume and output.exists() and not config.overwrite:
        raise EktError(f"{output} exists but not {workdir}: it was not written by a distributed run, so there "
                       f"are no ranks to resume; pass --overwrite to start again")
    if workdir.exists() and not config.overwrite:
        raise EktError(f"{workdir} already exists: pass --resume to continue that run (completed ranks are "
                       f"skipped), or --overwrite to start again")
    if output.exists() and not config.overwrite:
        raise EktError(f"{output} already exists: pass --overwrite to replace it")
    shutil.rmtree(workdir, ignore_errors=True)
    for path in (output, rejects_of(output), meta_path(output)):
        path.unlink(missing_ok=True)
    workdir.mkdir(parents=True)
    state.write_text(json.dumps(settings, indent=2) + "\n")


