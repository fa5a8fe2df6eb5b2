"""The same samples file through `ekt-curate verify` and through `verify --executor local` (datatrove).

    python benchmarks/bench_datatrove.py [--samples 5000] [--tasks 4] [--workers 2] [--json out.json]

Both run as the CLI a user would type, each in its own process, one after the other in this
run, on the same file (annotation-teacher samples of GSM8K train, gold from gsm8k:train, no
endless loops), with every sandbox layer on. The datatrove run splits the file into --tasks
ranks, runs --workers of them at once (each rank's sandbox gets cores // workers workers),
writes per-rank files and merges them; the table says what that costs, and the check that
both outputs are the same (timing fields aside) runs before any number is printed.
Take the numbers on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_verify import write_samples  # noqa: E402  (the samples bench_verify measures)


def timed_cli(*argv: str) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ekt_curate", "verify", *argv, "-q"], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"ekt-curate verify {' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return seconds


def verdicts(path: Path) -> list[dict]:
    records = []
    for line in path.open():
        record = json.loads(line)
        record["verdict"].pop("cpu_ms")
        record["verdict"].pop("wall_ms")
        records.append(record)
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=5000)
    parser.add_argument("--tasks", type=int, default=4, help="datatrove ranks (default: 4)")
    parser.add_argument("--workers", type=int, default=2, help="ranks at once (default: 2)")
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "samples.jsonl"
        write_samples(source, args.samples)
        common = (str(source), "--problems", "gsm8k:train")
        plain_out, dt_out = Path(tmp) / "plain.jsonl", Path(tmp) / "datatrove.jsonl"
        plain = timed_cli(*common, "-o", str(plain_out))
        dt = timed_cli(*common, "-o", str(dt_out), "--executor", "local", "--tasks", str(args.tasks),
                       "--workers", str(args.workers))
        resumed = timed_cli(*common, "-o", str(dt_out), "--executor", "local", "--tasks", str(args.tasks),
                            "--workers", str(args.workers), "--resume")
        if verdicts(plain_out) != verdicts(dt_out):
            sys.exit("the datatrove output differs from ekt-curate verify's: no numbers")
    rows = [
        (f"`ekt-curate verify` ({cores} sandbox workers)", plain),
        (f"`verify --executor local --tasks {args.tasks} --workers {args.workers}` "
         f"({max(1, cores // min(args.tasks, args.workers))} sandbox workers per rank)", dt),
        ("the same command again with `--resume` (every rank complete: merge only)", resumed),
    ]
    print(f"{args.samples:,} samples, {cores} cores; outputs identical apart from cpu_ms/wall_ms\n")
    print("| run (process start to exit) | seconds | samples/s | vs verify |")
    print("|---|---:|---:|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} | {args.samples / seconds:,.0f} | {plain / seconds:.2f}x |")
    if args.json:
        Path(args.json).write_text(json.dumps({"samples": args.samples, "cores": cores, "tasks": args.tasks,
                                               "workers": args.workers, "seconds": {"verify": plain,
                                               "datatrove_local": dt, "datatrove_resume": resumed}}, indent=2))


if __name__ == "__main__":
    main()
