"""Reward latency per GRPO step: ``VerifiedAnswerReward`` against the sandbox alone, in one run.

    python benchmarks/bench_reward.py [--batches 16,256,1024] [--rounds 5] [--workers N] [--json out.json]

A GRPO step hands the reward one batch of completions (prompts x generations); the trainer
waits for it (or, with the async form, overlaps it with the next generation). Measured per
batch size, the median of ``--rounds`` calls on a warm reward:

- ekt-curate: ``VerifiedAnswerReward`` called as TRL 1.16 calls it: chat completions (lists of
  messages), GSM8K's own ``answer`` text as the gold column, ``log_metric``/``log_extra``.
- floor: the same programs through ``Sandbox.map`` directly (same policy and workers), then
  the strict answer comparison: what judging costs without reading records or golds.
- per-program process: one ``python -I`` subprocess per completion from a thread pool as wide
  as the workers, with the same answer convention: what a reward function written without a
  sandbox pool typically does (no isolation layers).
Completions come from GSM8K train's calculator annotations (right, wrong and failing
programs, no endless loops). The three must agree on every pass/fail, or the run fails.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(__file__))
from bench_executor import subprocess_check  # noqa: E402 - the baseline bench_executor measures too

from ekt_curate.annotation_teacher import SAMPLE_KINDS, samples  # noqa: E402
from ekt_curate.answers import compare, from_value, parse_gold  # noqa: E402
from ekt_curate.problems import gsm8k_path, iter_problems  # noqa: E402
from ekt_curate.rewards import VerifiedAnswerReward  # noqa: E402
from ekt_curate.sandbox import Sandbox, default_workers, extract_program  # noqa: E402


def batch(size: int) -> tuple[list[list[dict]], list[str], list[str], list[str]]:
    """(chat completions, GSM8K answer texts, programs, numeric golds), ``size`` of each."""
    with gsm8k_path("train").open() as handle:
        answers = [json.loads(line)["answer"] for line in handle]
    kinds = tuple((kind, weight) for kind, weight in SAMPLE_KINDS if kind != "endless_loop")
    rows = list(samples(list(iter_problems("gsm8k:train"))[:2000], 1, seed=11, kinds=kinds))
    rows = (rows * (size // len(rows) + 1))[:size]
    chats = [[{"role": "assistant", "content": str(row["completion"])}] for row in rows]
    texts = [answers[int(str(row["task_id"]).rsplit("/", 1)[1])] for row in rows]
    return chats, texts, [extract_program(str(row["completion"])) for row in rows], [str(row["gold"]) for row in rows]


def timed(fn) -> tuple[float, float, list[bool]]:
    """(wall ms, this process's CPU ms, pass/fail): the caller's CPU is steadier than wall time
    on a shared VM, and it is where the reward's own work (reading, verdicts) shows."""
    cpu, start = sum(resource.getrusage(resource.RUSAGE_SELF)[:2]), time.perf_counter()
    passed = fn()
    return ((time.perf_counter() - start) * 1000, (sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu) * 1000,
            passed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", default="16,256,1024", help="batch sizes (completions per reward call)")
    parser.add_argument("--rounds", type=int, default=5, help="calls per batch size; the median counts")
    parser.add_argument("--baseline-rounds", type=int, default=1, help="rounds of the per-program process baseline")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args()
    sizes = [int(size) for size in args.batches.split(",")]
    reward = VerifiedAnswerReward(workers=args.workers)
    metrics: dict[str, float] = {}
    results = []
    with Sandbox("default", workers=args.workers) as box:
        box.run("answer = 0")
        reward(completions=[[{"role": "assistant", "content": "answer = 0"}]], gold=["#### 0"])  # warm
        for size in sizes:
            chats, texts, programs, golds = batch(size)

            def ours() -> list[bool]:
                values = reward(completions=chats, gold=texts, prompts=["p"] * size,
                                log_metric=metrics.__setitem__, log_extra=lambda column, values: None)
                return [value == 1.0 for value in values]

            def floor() -> list[bool]:
                return [result.ok and compare(from_value(result.answer), parse_gold(gold))[0]
                        for result, gold in zip(box.map(programs), golds)]

            def per_process() -> list[bool]:
                with ThreadPoolExecutor(args.workers) as pool:
                    answers = list(pool.map(subprocess_check, programs))
                return [not answer.startswith(("error:", "no answer")) and compare(from_value(answer),
                                                                                    parse_gold(gold))[0]
                        for answer, gold in zip(answers, golds)]

            ours_ms, floor_ms, process_ms, ours_cpu, floor_cpu = [], [], [], [], []
            for _ in range(args.rounds):  # interleaved, so drift in the machine's load hits both alike
                took, cpu, mine = timed(ours)
                ours_ms.append(took)
                ours_cpu.append(cpu)
                took, cpu, theirs = timed(floor)
                floor_ms.append(took)
                floor_cpu.append(cpu)
                if mine != theirs:
                    raise SystemExit(f"batch {size}: the reward and the sandbox disagree")
            for _ in range(args.baseline_rounds):
                took, _, theirs = timed(per_process)
                process_ms.append(took)
                if mine != theirs:
                    raise SystemExit(f"batch {size}: the reward and the per-program process baseline disagree")
            row = {"batch": size, "passed": sum(mine), "reward_ms": statistics.median(ours_ms),
                   "sandbox_map_ms": statistics.median(floor_ms), "per_process_ms": statistics.median(process_ms) if process_ms else float("nan")}
            row["overhead_ms"] = row["reward_ms"] - row["sandbox_map_ms"]
            row["reward_caller_cpu_ms"] = statistics.median(ours_cpu)
            row["sandbox_map_caller_cpu_ms"] = statistics.median(floor_cpu)
            results.append(row)
    reward.close()
    print(f"reward latency, {args.workers} workers, median of {args.rounds} calls (per-program process: "
          f"{args.baseline_rounds}); every method agrees on every pass/fail")
    print(f"{'batch':>6} {'passed':>7} {'reward ms':>10} {'Sandbox.map ms':>15} {'overhead ms':>12} "
          f"{'per-process ms':>15} {'completions/s':>14} {'caller CPU ms: reward':>22} {'Sandbox.map':>12}")
    for row in results:
        print(f"{row['batch']:>6} {row['passed']:>7} {row['reward_ms']:>10.1f} {row['sandbox_map_ms']:>15.1f} "
              f"{row['overhead_ms']:>12.1f} {row['per_process_ms']:>15.1f} "
              f"{row['batch'] / row['reward_ms'] * 1000:>14.0f} {row['reward_caller_cpu_ms']:>22.1f} "
              f"{row['sandbox_map_caller_cpu_ms']:>12.1f}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"workers": args.workers, "rounds": args.rounds, "results": results}, handle, indent=2)


if __name__ == "__main__":
    main()
