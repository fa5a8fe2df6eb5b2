"""The CLI handlers of ``--executor`` (verify, dedup, sample): build the configs, run, print where things went."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ekt_curate.distributed.deps import require_datatrove
from ekt_curate.distributed.options import executor_settings


def run_verify_executor(args: argparse.Namespace) -> int:
    require_datatrove()
    from ekt_curate.distributed.executors import ExecutorConfig
    from ekt_curate.distributed.verify_run import run_verify_distributed
    from ekt_curate.commands import field_names
    from ekt_curate.stages.verify import VerifyConfig, parse_shard

    executor = ExecutorConfig(**executor_settings(args))
    # --workers means ranks at once here; a rank's sandbox gets its share of the cores
    config = VerifyConfig(
        input=args.input, output=args.output, problems=args.problems, answer=args.answer, prelude=args.prelude,
        rel_tol=args.rel_tol, gold_precision=args.gold_precision, checker=args.checker, policy=args.policy,
        compare=args.compare, all_cases=args.all_cases, case_seconds=args.case_seconds,
        workers=None, resume=args.resume, overwrite=args.overwrite,
        shard=parse_shard(args.shard) if args.shard else None, fields=field_names(args))
    summary = run_verify_distributed(config, executor)
    if not summary.merged:
        print(f"submitted Slurm job {summary.job_id}: {executor.tasks} ranks, logs in {summary.workdir / 'logs'}\n"
              f"when it has finished, run the same command with --resume to merge the ranks into {summary.output}")
        return 0
    skipped = f" ({summary.skipped_ranks} already complete)" if summary.skipped_ranks else ""
    print(f"{executor.kind} executor, {executor.tasks} ranks{skipped}: {summary.samples:,} samples into "
          f"{summary.output}" + (f", {summary.rejected:,} rejected lines in {summary.rejects}" if summary.rejected
                                 else "") + f" ({summary.seconds:.1f} s)")
    if summary.rejected and not summary.samples:
        print(f"ekt-curate: error: every input line was rejected ({summary.rejected:,}), see {summary.rejects}",
              file=sys.stderr)
        return 2
    return 1 if args.strict and summary.rejected else 0


def run_dedup_executor(args: argparse.Namespace) -> int:
    require_datatrove()
    from ekt_curate.distributed.dedup_run import run_dedup_distributed
    from ekt_curate.distributed.executors import ExecutorConfig
    from ekt_curate.report import print_dedup_summary
    from ekt_curate.stages.dedup import DedupConfig

    executor = ExecutorConfig(**executor_settings(args))
    config = DedupConfig(input=args.input, output=args.output, threshold=args.threshold, num_perm=args.num_perm,
                         max_per_task=args.max_per_task, keep_failed=args.keep_failed, unverified=args.unverified,
                         overwrite=args.overwrite)
    result = run_dedup_distributed(config, executor, resume=args.resume)
    if _report_ranks(result, executor, "by task"):
        print_dedup_summary(result.summary)
    return 0


def run_sample_executor(args: argparse.Namespace, config: object) -> int:
    require_datatrove()
    from ekt_curate.distributed.executors import ExecutorConfig
    from ekt_curate.distributed.sample_run import run_sample_distributed
    from ekt_curate.report import print_sample_summary

    executor = ExecutorConfig(**executor_settings(args))
    result = run_sample_distributed(config, executor)  # type: ignore[arg-type]
    if _report_ranks(result, executor, "by problem"):
        print_sample_summary(result.summary)
    return 0


def _report_ranks(result: Any, executor: Any, split: str) -> bool:
    """Say where a submitted Slurm job's ranks will go, or how the ranks ran; True once merged."""
    if not result.merged:
        print(f"submitted Slurm job {result.job_id}: {executor.tasks} ranks, logs in {result.workdir / 'logs'}\n"
              f"when it has finished, run the same command with --resume to merge the ranks into "
              f"{result.summary.output}")
        return False
    skipped = f" ({result.skipped_ranks} already complete)" if result.skipped_ranks else ""
    print(f"{executor.kind} executor, {executor.tasks} ranks {split}{skipped}")
    return True
