"""The ``--executor`` options of the CLI. Imports nothing of datatrove, so ``--help`` stays fast."""

from __future__ import annotations

import argparse
from typing import Any

from ekt_curate.errors import EktError


VERIFY_SPLIT = ("the input is split into --tasks ranks (rank R takes the lines --shard R/N would), each rank writes "
                "its own files under OUTPUT_STEM.datatrove/, and the ranks are merged into OUTPUT, identical to a "
                "single-machine run. With --executor, --workers is the number of ranks running at once; each rank's "
                "sandbox gets its share of the cores (Slurm, Ray: --cpus-per-task)")


def add_executor_options(parser: argparse.ArgumentParser, split: str = VERIFY_SPLIT) -> None:
    """``split``: how this command divides its work into ranks, for --help."""
    group = parser.add_argument_group(
        "datatrove executors (pip install 'ekt-curate[distributed]')",
        f"Run on datatrove: {split}. --resume skips the ranks already complete; -q keeps datatrove's "
        f"per-rank logs off the terminal (they are in OUTPUT_STEM.datatrove/logs/).")
    group.add_argument("--executor", choices=("local", "slurm", "ray"),
                       help="run on datatrove's LocalPipelineExecutor, SlurmPipelineExecutor or RayPipelineExecutor")
    group.add_argument("--tasks", type=int, default=None, metavar="N", help="ranks to split the input into (default: 1)")
    slurm = parser.add_argument_group("Slurm (with --executor slurm; passed to sbatch)")
    slurm.add_argument("--partition", help="Slurm partition (required for --executor slurm)")
    slurm.add_argument("--time", default="24:00:00", help="time limit of each array task (default: 24:00:00)")
    slurm.add_argument("--cpus-per-task", type=int, default=1, metavar="N",
                       help="CPUs per rank, and that rank's sandbox workers (Slurm and Ray; default: 1)")
    slurm.add_argument("--mem-per-cpu-gb", type=float, default=2, metavar="GB", help="memory per CPU (default: 2)")
    slurm.add_argument("--qos", help="Slurm QOS")
    slurm.add_argument("--job-name", default="ekt-curate", help="Slurm job name (default: ekt-curate)")
    slurm.add_argument("--env-command", metavar="CMD",
                       help="shell line that activates the environment on the nodes (default: source this "
                            "interpreter's venv activate script)")
    slurm.add_argument("--sbatch-arg", action="append", default=[], metavar="KEY=VALUE",
                       help="any other sbatch option, e.g. --sbatch-arg account=proj (repeatable)")


def executor_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The ExecutorConfig fields the flags give (checked by ExecutorConfig itself)."""
    sbatch: dict[str, str] = {}
    for pair in args.sbatch_arg:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise EktError(f"--sbatch-arg {pair!r}: expected KEY=VALUE, e.g. account=myproject")
        sbatch[key.lstrip("-")] = value
    return {"kind": args.executor, "tasks": 1 if args.tasks is None else args.tasks, "workers": -1 if args.workers is None else args.workers,
            "partition": args.partition, "time": args.time, "cpus_per_task": args.cpus_per_task,
            "mem_per_cpu_gb": args.mem_per_cpu_gb, "qos": args.qos, "job_name": args.job_name,
            "env_command": args.env_command, "sbatch_args": sbatch, "quiet": bool(getattr(args, "quiet", False))}
