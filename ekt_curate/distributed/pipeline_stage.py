"""The verify stage of ``ekt-curate run`` when the pipeline file has an ``executor:`` section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ekt_curate.distributed.deps import require_datatrove


def verify_on_executor(pipeline: Any, samples: Path, verified: Path, completed_before: bool, say: Any) -> bool:
    """Verify ``samples`` into ``verified`` on ``pipeline.executor``; False when a Slurm job was
    submitted and the pipeline must be run again once it has ended (to merge and go on)."""
    require_datatrove()
    from ekt_curate.distributed.verify_run import run_verify_distributed, workdir_of
    from ekt_curate.stages.verify import VerifyConfig

    section = pipeline.verify
    # a run that stopped midway continues by ranks; a stage redone because settings changed starts over
    resume = not completed_before and workdir_of(verified).exists()
    config = VerifyConfig(input=samples, output=verified, problems=pipeline.problems, policy=section.policy,
                          answer=section.answer, rel_tol=section.rel_tol, gold_precision=section.gold_precision,
                          checker=section.checker, resume=resume, overwrite=not resume)
    summary = run_verify_distributed(config, pipeline.executor, warn=lambda message: None)
    executor = pipeline.executor
    if not summary.merged:
        say(f"      submitted Slurm job {summary.job_id} ({executor.tasks} ranks); run the pipeline again "
            f"when it has ended: the ranks are merged and the next stages run")
        return False
    say(f"      {summary.samples:,} samples on the {executor.kind} executor, {executor.tasks} ranks"
        + (f" ({summary.skipped_ranks} already complete)" if summary.skipped_ranks else ""))
    return True


def dedup_on_executor(pipeline: Any, config: Any, completed_before: bool, say: Any) -> Any:
    """The dedup stage on ``pipeline.executor`` (ranks by task); its DedupSummary, or None when a
    Slurm job was submitted and the pipeline must be run again once it has ended."""
    require_datatrove()
    import dataclasses

    from ekt_curate.distributed.dedup_run import run_dedup_distributed
    from ekt_curate.distributed.ranks import workdir_of
    from ekt_curate.stages.dedup import output_paths

    resume = not completed_before and workdir_of(output_paths(config)[0]).exists()
    result = run_dedup_distributed(dataclasses.replace(config, overwrite=not resume), pipeline.executor,
                                   resume=resume, warn=lambda message: None)
    if not result.merged:
        say(f"      submitted Slurm job {result.job_id} ({pipeline.executor.tasks} ranks); run the pipeline again "
            f"when it has ended: the ranks are merged and the next stages run")
        return None
    return result.summary


def sample_on_executor(pipeline: Any, config: Any) -> bool:
    """The sample stage on ``pipeline.executor`` (openai backend, ranks by problem); False when a
    Slurm job was submitted. ``config.resume``: a run that stopped midway continues by ranks."""
    require_datatrove()
    import dataclasses

    from ekt_curate.distributed.ranks import workdir_of
    from ekt_curate.distributed.sample_run import run_sample_distributed

    resume = config.resume and workdir_of(config.output).exists()
    result = run_sample_distributed(dataclasses.replace(config, resume=resume, overwrite=not resume),
                                    pipeline.executor, warn=lambda message: None)
    return result.merged
