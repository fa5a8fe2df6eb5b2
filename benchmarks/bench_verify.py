"""End-to-end `verify` throughput (JSONL in, JSONL out) next to the bare executor and a naive verifier.

    python benchmarks/bench_verify.py [--samples 6000] [--baseline-samples 300] [--json out.json]

- verify: ``run_verify`` on a samples file (parse, gold lookup from gsm8k:train,
  sandbox with every layer on, answer normalization, ordered atomic writes).
- executor only: ``Sandbox.map`` over the same programs, no JSON and no judging,
  to show what verify adds on top.
- naive verifier: read a line, run its program in a fresh ``python -I``
  subprocess (no isolation layers), compare ``float(answer) == float(gold)``,
  write a line; a thread pool as wide as the cores.
Samples are annotation-teacher samples of GSM8K train (no endless loops).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_executor import RUNNER  # noqa: E402  (same answer convention as the sandbox's auto)

from ekt_curate.annotation_teacher import SAMPLE_KINDS, samples  # noqa: E402
from ekt_curate.jsonl import dumps  # noqa: E402
from ekt_curate.problems import iter_problems  # noqa: E402
from ekt_curate.sandbox import Sandbox, default_workers, extract_program  # noqa: E402
from ekt_curate.stages.verify import VerifyConfig, run_verify  # noqa: E402


def write_samples(path: Path, count: int) -> None:
    problems = list(iter_problems("gsm8k:train"))
    kinds = tuple((kind, weight) for kind, weight in SAMPLE_KINDS if kind != "endless_loop")
    rows = []
    for sample in samples(problems, 1, seed=11, kinds=kinds):
        sample.pop("gold")
        rows.append(sample)
    with path.open("wb") as handle:
        for i in range(count):
            handle.write(dumps(rows[i % len(rows)]))


def naive_verify(source: Path, target: Path, workers: int, gold: dict[str, str]) -> float:
    records = [json.loads(line) for line in source.open()]

    def check(record: dict) -> bytes:
        code = extract_program(record["completion"])
        out = subprocess.run([sys.executable, "-I", "-c", RUNNER], input=code, capture_output=True, text=True,
                             timeout=10).stdout.strip()
        try:
            passed = float(out) == float(gold[record["task_id"]])
        except ValueError:
            passed = False
        return dumps({**record, "verdict": {"passed": passed, "answer": out}})

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool, target.open("wb") as handle:
        for line in pool.map(check, records):
            handle.write(line)
    return len(records) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=6000)
    parser.add_argument("--baseline-samples", type=int, default=300)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source, small = Path(tmp) / "samples.jsonl", Path(tmp) / "small.jsonl"
        write_samples(source, args.samples)
        write_samples(small, args.baseline_samples)
        summary = run_verify(VerifyConfig(input=source, problems="gsm8k:train", workers=args.workers))
        verify_rate = summary.processed / summary.seconds
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        programs = [json.loads(line)["completion"] for line in source.open()]
        with Sandbox("default", workers=args.workers) as box:
            box.run("answer = 0")
            start = time.perf_counter()
            for _ in box.map(programs):
                pass
            executor_rate = len(programs) / (time.perf_counter() - start)
        gold = {p.task_id: p.gold for p in iter_problems("gsm8k:train")}
        naive_rate = naive_verify(small, Path(tmp) / "naive.jsonl", args.workers, gold)
    rows = [("ekt-curate verify (end to end)", args.samples, verify_rate),
            ("ekt-curate Sandbox.map only", args.samples, executor_rate),
            ("naive verifier (python -I per sample)", args.baseline_samples, naive_rate)]
    print(f"{args.workers} workers; pass rate {100 * summary.statuses['pass'] / summary.samples:.1f}%; "
          f"peak RSS of the verify process {peak_mib:.0f} MiB\n")
    print("| method | samples | samples/s | vs naive |")
    print("|---|---:|---:|---:|")
    for name, count, value in rows:
        print(f"| {name} | {count} | {value:,.0f} | {value / naive_rate:.1f}x |")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"rows": [{"method": n, "samples": c, "per_second": v} for n, c, v in rows]}, handle, indent=2)


if __name__ == "__main__":
    main()
