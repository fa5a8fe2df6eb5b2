"""`ekt-curate demo`: the most complete pipeline that exists, on shipped data, offline.

sample -> verify -> dedup -> stats (terminal, JSON, HTML). Teacher samples come
from the annotation teacher (GSM8K calculator annotations turned into programs,
with realistic failures), since no model can be assumed to be downloadable.
"""

from __future__ import annotations

from pathlib import Path

from ekt_curate.jsonl import LineWriter


def run_demo(out: Path, problems: int = 200, samples: int = 4, workers: int | None = None) -> int:
    from ekt_curate.annotation_teacher import samples as teacher_samples
    from ekt_curate.problems import iter_problems
    from ekt_curate.report import ProgressFactory, print_dedup_summary, print_verify_summary
    from ekt_curate.stages.dedup import DedupConfig, run_dedup
    from ekt_curate.stages.stats import run_stats
    from ekt_curate.stages.verify import VerifyConfig, run_verify

    out.mkdir(parents=True, exist_ok=True)
    samples_path = out / "samples.jsonl"
    chosen = [p for _, p in zip(range(problems), iter_problems("gsm8k:train"))]
    samples_path.unlink(missing_ok=True)
    writer = LineWriter(samples_path)
    written = 0
    for sample in teacher_samples(chosen, samples, seed=0):
        sample.pop("gold")  # as a sampler that knows only task ids would write it: gold comes from --problems
        writer.write(sample)
        written += 1
    writer.close()
    print(f"[1/4] sample: {written:,} teacher samples for {len(chosen)} GSM8K train problems -> {samples_path}")
    print("      (annotation teacher: programs from GSM8K's calculator annotations, offline)")

    print("[2/4] verify: every program runs in the sandbox, its answer checked against gold")
    progress = ProgressFactory("verify")
    try:
        verified = run_verify(VerifyConfig(input=samples_path, problems="gsm8k:train", workers=workers,
                                           overwrite=True), progress)
    finally:
        progress.close()
    print_verify_summary(verified)
    print("sandbox layers: " + "; ".join(f"{name}: {what}" for name, what in verified.layers.items()))

    print("\n[3/4] dedup: passing samples only, duplicates removed within each task")
    curated = run_dedup(DedupConfig(input=verified.output, overwrite=True))
    print_dedup_summary(curated)

    print("\n[4/4] stats: pass@k, coverage and distributions, verified vs curated")
    report = out / "report.html"
    run_stats(verified.output, (1, 2, 4), compare=curated.output, json_path=out / "stats.json", html_path=report)
    print(f"\nreport: {report.resolve()} (open it in a browser); numbers: {out / 'stats.json'}")
    return 0
