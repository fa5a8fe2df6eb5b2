"""`ekt-curate demo`: the shipped CPU pipeline (ekt_curate/pipelines/demo.yaml), offline.

sample (annotation teacher) -> verify -> dedup -> stats -> publish -> train (a tiny student
built locally) -> eval. Every stage a user will run at scale, in a couple of minutes on a laptop.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def run_demo(out: Path, problems: int = 60, samples: int = 4, workers: int | None = None,
             train: bool = True) -> int:
    from ekt_curate.stages.pipeline import load_pipeline, run_pipeline
    from ekt_curate.stages.pipeline_checks import check_pipeline

    if train:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # weight loading/saving bars say nothing a demo reader needs

    spec = Path(str(resources.files("ekt_curate") / "pipelines" / "demo.yaml"))
    overrides: dict[str, object] = {"workdir": str(out.resolve()), "limit": problems,
                                    "teacher": {"backend": "annotations", "n": samples},
                                    "verify": {"policy": "default", "workers": workers}}
    if not train:
        overrides.update(train=None, eval=None)
    pipeline = load_pipeline(spec, overrides)
    check_pipeline(pipeline, spec)
    usable = _annotated(pipeline, problems)
    skipped = f" ({problems - usable} without calculator annotations to build programs from: {usable} used)" \
        if usable < problems else ""
    print(f"ekt-curate demo: {problems} GSM8K train problems{skipped} x {samples} samples, pipeline {spec}")
    print("(teacher: programs built from GSM8K's calculator annotations; student: a tiny random model. "
          "Real models: see README)\n")
    results = run_pipeline(pipeline, quiet=True)  # the stage lines say how training went: no bars beside them
    work = pipeline.workdir
    from ekt_curate.stages.stats import run_stats

    print()
    run_stats(work / "samples.verified.jsonl", (1, 2, 4), compare=work / "samples.curated.jsonl")
    student_report = f" and {work / 'eval' / 'report.html'} (student)" if "eval" in results else ""
    print(f"\nopen {work / 'report.html'} (teacher samples vs curated){student_report}")
    print(f"dataset: {results['dataset']}" + (f"; student: {results['student']}" if "student" in results else ""))
    return 0


def _annotated(pipeline: object, count: int) -> int:
    """How many of the first ``count`` problems the stand-in teacher can write programs for."""
    from ekt_curate.annotation_teacher import steps_of
    from ekt_curate.problems import iter_problems

    problems = list(iter_problems(pipeline.problems, pipeline.fields()))[:count]  # type: ignore[attr-defined]
    return sum(1 for problem in problems if steps_of(problem))
