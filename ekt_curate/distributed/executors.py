"""Which datatrove executor runs a pipeline, from one small config (CLI flags or the YAML's ``executor:``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ekt_curate.errors import EktError

KINDS = ("local", "slurm", "ray")


@dataclass(frozen=True)
class ExecutorConfig:
    kind: str = "local"                 # local | slurm | ray
    tasks: int = 1                      # ranks: the input is split into this many parts
    workers: int = -1                   # ranks running at once (-1: all; Slurm: the array's %limit)
    # Slurm (passed through to SlurmPipelineExecutor / sbatch)
    partition: str | None = None
    time: str = "24:00:00"
    cpus_per_task: int = 1              # Slurm and Ray; also each rank's sandbox workers there
    mem_per_cpu_gb: float = 2
    qos: str | None = None
    job_name: str = "ekt-curate"
    env_command: str | None = None      # e.g. "source /path/.venv/bin/activate" (default: this interpreter's venv)
    sbatch_args: dict[str, str] = field(default_factory=dict)
    quiet: bool = False                 # -q: datatrove's per-rank INFO logs only in logs/, not on stderr

    def __post_init__(self) -> None:
        for name in ("tasks", "workers", "cpus_per_task"):  # the YAML's executor: section arrives untyped
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise EktError(f"executor {name} must be an integer, got {value!r}")
        if self.kind not in KINDS:
            raise EktError(f"executor {self.kind!r}: choose one of {', '.join(KINDS)}")
        if self.tasks < 1:
            raise EktError(f"--tasks {self.tasks}: need at least 1")
        if self.workers == 0 or self.workers < -1:
            raise EktError(f"--workers {self.workers}: need at least 1 (or -1 for all tasks at once)")
        if self.kind == "slurm" and not self.partition:
            raise EktError("--executor slurm needs --partition")

    def sandbox_workers(self) -> int:
        """Sandbox workers in each rank: the rank's share of this machine's cores (local), else its CPUs."""
        if self.kind != "local":
            return self.cpus_per_task
        at_once = min(self.tasks, self.workers if self.workers != -1 else self.tasks)
        return max(1, (os.cpu_count() or 1) // at_once)

    def describe(self) -> dict[str, Any]:
        keep = ("kind", "tasks", "workers") + (("partition", "time", "cpus_per_task", "qos", "job_name")
                                               if self.kind == "slurm" else ("cpus_per_task",) if self.kind == "ray"
                                               else ())
        return {key: getattr(self, key) for key in keep}


def build_executor(pipeline: list, config: ExecutorConfig, logging_dir: Path, skip_completed: bool = True):
    """A datatrove executor for ``pipeline``; ``run()`` runs it (Slurm: submits it and returns)."""
    if config.kind == "local":
        from datatrove.executor import LocalPipelineExecutor

        # forkserver (datatrove's default) starts each rank in a clean process: no threads or
        # sandboxes inherited from this one; each rank starts its own sandbox in its main thread
        from ekt_curate.distributed.quiet import QuietLocalPipelineExecutor

        local = QuietLocalPipelineExecutor if config.quiet else LocalPipelineExecutor
        return local(pipeline, tasks=config.tasks, workers=config.workers,
                     logging_dir=str(logging_dir), skip_completed=skip_completed)
    if config.kind == "slurm":
        from datatrove.executor import SlurmPipelineExecutor

        from ekt_curate.distributed.quiet import QuietSlurmPipelineExecutor

        env_command = config.env_command or _this_venv()
        slurm = QuietSlurmPipelineExecutor if config.quiet else SlurmPipelineExecutor
        return slurm(
            pipeline, tasks=config.tasks, workers=config.workers, time=config.time, partition=config.partition,
            cpus_per_task=config.cpus_per_task, mem_per_cpu_gb=config.mem_per_cpu_gb, qos=config.qos,
            job_name=config.job_name, env_command=env_command, sbatch_args=dict(config.sbatch_args),
            logging_dir=str(logging_dir), skip_completed=skip_completed,
            slurm_logs_folder=str(logging_dir / "slurm_logs"))
    from ekt_curate.distributed.deps import require_ray

    require_ray()
    import ray
    from datatrove.executor import RayPipelineExecutor

    if not ray.is_initialized():  # datatrove expects it: the cluster of RAY_ADDRESS or `ray start`, else a local one
        ray.init()

    return RayPipelineExecutor(pipeline, tasks=config.tasks, workers=config.workers,
                               cpus_per_task=config.cpus_per_task, mem_per_cpu_gb=config.mem_per_cpu_gb,
                               logging_dir=str(logging_dir), skip_completed=skip_completed)


def _this_venv() -> str:
    """Slurm jobs run ``launch_pickled_pipeline`` from PATH: activate the environment we run in."""
    import sys

    activate = Path(sys.prefix) / "bin" / "activate"
    return f"source {activate}" if activate.exists() else ""
