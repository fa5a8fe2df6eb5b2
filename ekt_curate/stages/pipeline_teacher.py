"""The pipeline's sample stage: the teacher a pipeline file names, run in-process.

``backend: annotations`` (the demo's) builds programs from GSM8K's calculator annotations
(ekt_curate/annotation_teacher.py): no model, no command of its own, so its sidecar is written
here, naming what it is and recording no sampling setting it does not have. Any other backend
runs ``ekt-curate sample``'s stage, its sidecar recording the equivalent ``ekt-curate sample``
command (ekt_curate/stages/stage_commands.py) and the pipeline command that ran it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ekt_curate.errors import EktError
from ekt_curate.provenance import stage_command, write_meta
from ekt_curate.stages.stage_commands import command_for

# What the annotation teacher does not have: no model is prompted or sampled. Recorded as null
# (the card: "does not apply"), not left out ("not recorded") and never given a value.
NOT_SAMPLED = ("prompt", "exemplars", "endpoint", "chat_template", "temperature", "top_p", "max_new_tokens",
               "stop", "seeding", "excluded_exemplars")


def run_teacher(pipeline: Any, output: Path, resume: bool) -> bool | None:
    teacher = pipeline.teacher
    if teacher.backend == "annotations":
        from ekt_curate.annotation_teacher import samples as annotation_samples
        from ekt_curate.jsonl import LineWriter
        from ekt_curate.problems import iter_problems

        problems = list(iter_problems(pipeline.problems, pipeline.fields()))[: pipeline.limit]
        output.unlink(missing_ok=True)  # deterministic and instant: always rewritten whole
        writer = LineWriter(output)
        tasks: set[str] = set()
        names: set[str] = set()  # the teacher names itself in each sample's meta
        written = 0
        for sample in annotation_samples(problems, teacher.n, seed=teacher.seed):
            writer.write(sample)
            tasks.add(str(sample["task_id"]))
            names.add(str((sample.get("meta") or {}).get("teacher")))
            written += 1
        writer.close()
        write_annotation_meta(output, pipeline, len(problems), len(tasks), written, names)
        return
    if not teacher.model:
        raise EktError(f"teacher.model is required for the {teacher.backend} backend")
    from ekt_curate.stages.sample import SampleConfig, run_sample

    config = SampleConfig(
        problems=pipeline.problems, model=teacher.model, output=output, n=teacher.n, prompt=teacher.prompt,
        exemplars=teacher.exemplars, temperature=teacher.temperature, top_p=teacher.top_p,
        max_new_tokens=teacher.max_new_tokens, backend=teacher.backend, seed=teacher.seed, limit=pipeline.limit,
        base_url=teacher.base_url, resume=resume, overwrite=not resume, fields=pipeline.fields(),
        stop=tuple(teacher.stop) if teacher.stop is not None else None, batch_size=teacher.batch_size,
        include_exemplars=teacher.include_exemplars, api_key_env=teacher.api_key_env,
        concurrency=teacher.concurrency, max_retries=teacher.max_retries, endpoint=teacher.endpoint,
        seeding=teacher.seeding, engine_args=dict(teacher.engine_args))
    if pipeline.executor is not None and teacher.backend == "openai":  # ranks by problem against the endpoint
        from ekt_curate.distributed.pipeline_stage import sample_on_executor

        return sample_on_executor(pipeline, config)  # False: a Slurm job was submitted
    with stage_command(command_for("sample", config, pipeline.workdir)):
        run_sample(config)
    return True


def write_annotation_meta(output: Path, pipeline: Any, problems_read: int, problem_count: int, written: int,
                          names: set[str]) -> None:
    """The sample sidecar of the annotation teacher: what it is, the problems and counts, its n
    and seed, and null for every sampling setting it does not have."""
    write_meta(output, "sample", {
        "model": ", ".join(sorted(names)) or None, "backend": "annotations", **dict.fromkeys(NOT_SAMPLED),
        "n": pipeline.teacher.n, "seed": pipeline.teacher.seed, "problems": pipeline.problems, "limit": pipeline.limit,
        "problems_read": problems_read, "problem_count": problem_count, "samples_written": written, "shard": None})
