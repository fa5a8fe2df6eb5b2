"""What every ``--executor`` run shares: its work folder, starting or resuming it, running the ranks.

    OUTPUT_STEM.datatrove/
        run.json     the settings this run was started with (a resume must match them)
        ranks/       each rank's files
        logs/        datatrove's logging_dir: completions/, logs/task_R.log, stats/, stats.json

``--resume`` skips the ranks datatrove marked complete; a rank that was killed runs again from
its start. With Slurm the array is submitted and the call returns (``job_id``); the same command
with ``--resume`` after the job ends goes on to the merge.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from ekt_curate.distributed.executors import ExecutorConfig, build_executor
from ekt_curate.errors import EktError


def workdir_of(output: Path) -> Path:
    return output.with_name(output.name.removesuffix(".jsonl") + ".datatrove")


def rank_output(folder: Path, output: Path, rank: int, world_size: int) -> Path:
    return folder / f"{output.name.removesuffix('.jsonl')}.shard-{rank}-of-{world_size}.jsonl"


def prepare(workdir: Path, output: Path, outputs: Iterable[Path], settings: dict[str, object],
            resume: bool, overwrite: bool) -> None:
    """Start fresh (``outputs``: OUTPUT and the files beside it, removed), or check that a resume
    continues the same run (completions of a 4-rank split would skip the wrong lines of an 8-rank one)."""
    state = workdir / "run.json"
    if workdir.exists() and resume:
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
    if resume and output.exists() and not overwrite:
        raise EktError(f"{output} exists but not {workdir}: it was not written by a distributed run, so there "
                       f"are no ranks to resume; pass --overwrite to start again")
    if workdir.exists() and not overwrite:
        raise EktError(f"{workdir} already exists: pass --resume to continue that run (completed ranks are "
                       f"skipped), or --overwrite to start again")
    if output.exists() and not overwrite:
        raise EktError(f"{output} already exists: pass --overwrite to replace it")
    shutil.rmtree(workdir, ignore_errors=True)
    for path in outputs:
        path.unlink(missing_ok=True)
    workdir.mkdir(parents=True)
    state.write_text(json.dumps(settings, indent=2) + "\n")


Summary = TypeVar("Summary")


@dataclass
class RanksRun:
    skipped: int                      # ranks completed by an earlier run
    job_id: str | None = None         # Slurm: submitted, not finished; merge on --resume


@dataclass
class RankedRun(Generic[Summary]):
    """What a ranked dedup or sample run reports: the stage's own summary, once merged."""

    summary: Summary                  # what the plain command reports (print_dedup_summary, ...)
    workdir: Path
    skipped_ranks: int = 0
    merged: bool = False              # False: Slurm job submitted, not finished yet
    job_id: str | None = None


def run_ranks(pipeline: list, executor: ExecutorConfig, workdir: Path) -> RanksRun:
    """Run the ranks not complete yet; every rank complete when it returns without ``job_id``."""
    from ekt_curate.distributed.quiet import quiet_logs
    from ekt_curate.sandbox.errors import SandboxError

    runner = build_executor(pipeline, executor, workdir / "logs")
    result = RanksRun(skipped=executor.tasks - len(runner.get_incomplete_ranks()))
    try:
        with quiet_logs(executor.quiet):
            runner.run()
    except (EktError, SandboxError):  # the CLI's own one-line errors and exit codes (3: a layer is missing)
        raise
    except Exception as exc:  # a rank failed: datatrove logged its traceback in the rank's log
        raise EktError(f"a rank failed ({type(exc).__name__}: {exc}); logs in {workdir / 'logs' / 'logs'}; "
                       f"--resume runs only the ranks not completed") from None
    incomplete = runner.get_incomplete_ranks()
    if incomplete:
        if executor.kind == "slurm":
            result.job_id = str(getattr(runner, "job_id", None))
            return result
        raise EktError(f"ranks {incomplete} did not complete; logs in {workdir / 'logs'}; --resume runs only those")
    return result
