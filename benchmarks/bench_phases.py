"""Where a program's time goes in the sandbox, by process and by phase, measured in one run.

    python benchmarks/bench_phases.py [--programs 1500] [--rounds 2] [--json out.json]

What it measures (all as CPU ms per program, and page faults per program, medians of rounds):
- by process: the caller (the executor's parent side: pipes, messages, parsing the report),
  the zygotes (fork, waiting, reaping, scratch), the children (confinement, program, exit);
- the floor: a bare fork + _exit of an interpreter holding the zygote's own imports, and the
  same child compiling and running one small program: what any fork-per-program design on
  this interpreter pays before it isolates anything;
- each layer's share, by difference: the same programs under the default policy with that one
  layer off (a measurement only: the product never runs with a layer off unless a policy says so);
- the program's share, by difference: GSM8K programs against ``answer = 0``.
Page faults are counted from /proc (the zygotes' own, and their children's): after a fork every
page either process writes first costs a copy-on-write fault, and on a VM those dominate.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_executor import cpu_split, gsm8k_programs  # noqa: E402

from ekt_curate.sandbox import Sandbox  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYERS = ("seccomp", "landlock", "drop_privileges", "scratch_quota", "readonly_roots")

# The floor, in a fresh interpreter with the zygote's imports and the policy's preloads.
FLOOR = """
import gc, os, resource, sys, time
sys.path.insert(0, sys.argv[1])
import tomllib
for name in tomllib.load(open(sys.argv[2], "rb"))["allow"]["preload"]:
    __import__(name)
import ekt_curate.sandbox.zygote
gc.collect(); gc.freeze()
PROGRAM = "def solution():\\n    total = 3 * 4\\n    return total + 1\\n"
def measure(run_program, count):
    r0, c0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            if run_program:
                namespace = {"__name__": "__main__"}
                exec(compile(PROGRAM, "<program>", "exec"), namespace)
                namespace["solution"]()
            os._exit(0)
        os.waitpid(pid, 0)
    r1, c1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = lambda a, b: (b.ru_utime + b.ru_stime - a.ru_utime - a.ru_stime) * 1000 / count
    return {"parent_ms": cpu(r0, r1), "child_ms": cpu(c0, c1),
            "parent_faults": (r1.ru_minflt - r0.ru_minflt) / count, "child_faults": (c1.ru_minflt - c0.ru_minflt) / count}
count = int(sys.argv[3])
print(json.dumps({"fork_exit": measure(False, count), "fork_program_exit": measure(True, count)}))
""".replace("import gc,", "import json, gc,")


def faults(box: Sandbox) -> tuple[int, int]:
    """(the zygotes' own minor faults, their reaped children's)."""
    own = children = 0
    for pid in box.zygote_pids:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        own += int(fields[7])
        children += int(fields[8])
    return own, children


def policy_without(layer: str | None, folder: str) -> str:
    text = open(os.path.join(ROOT, "sandbox_policies", "default.toml")).read()
    if layer is None:
        return "default"
    text = re.sub(rf"^{layer} = true", f"{layer} = false", text, flags=re.M)
    path = os.path.join(folder, f"without-{layer}.toml")
    with open(path, "w") as handle:
        handle.write(text.replace('name = "default"', f'name = "without-{layer}"'))
    return path


def measure(policy: str, programs: list[str], workers: int) -> dict:
    with Sandbox(policy, workers=workers) as box:
        box.run("answer = 0")  # warm
        out: dict = {}

        def run() -> int:
            own0, children0 = faults(box)
            start = time.perf_counter()
            for _ in box.map(programs):
                pass
            out["per_second"] = len(programs) / (time.perf_counter() - start)
            own1, children1 = faults(box)
            out["zygote_faults"] = (own1 - own0) / len(programs)
            out["child_faults"] = (children1 - children0) / len(programs)
            return len(programs)

        out.update({f"{key}_ms": value for key, value in cpu_split(box, run).items()})
        out["total_ms"] = out["caller_ms"] + out["zygotes_ms"] + out["children_ms"]
        return out


def median_of(rounds: list[dict]) -> dict:
    return {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--programs", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args()
    programs = gsm8k_programs(args.programs)
    trivial = ["answer = 0"] * args.programs
    cases = [("all layers, GSM8K programs", None, programs), ("all layers, answer = 0", None, trivial),
             *((f"without {layer}", layer, programs) for layer in LAYERS)]
    results: dict[str, list[dict]] = {name: [] for name, _, _ in cases}
    floors = []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.rounds):  # rounds interleaved, so drift in the machine's load hits all alike
            for name, layer, codes in cases:
                results[name].append(measure(policy_without(layer, folder), codes, args.workers))
            done = subprocess.run([sys.executable, "-I", "-c", FLOOR, ROOT,
                                   os.path.join(ROOT, "sandbox_policies", "default.toml"), str(args.programs)],
                                  capture_output=True, text=True, check=True)
            floors.append(json.loads(done.stdout))
    rows = {name: median_of(runs) for name, runs in results.items()}
    floor = {kind: median_of([f[kind] for f in floors]) for kind in ("fork_exit", "fork_program_exit")}
    base = rows["all layers, GSM8K programs"]
    print(f"{os.cpu_count()} cores, {args.workers} workers, {args.programs} programs, {args.rounds} rounds (medians)\n")
    print("| run | programs/s | caller ms | zygotes ms | children ms | total ms | faults: zygote | child |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, row in rows.items():
        print(f"| {name} | {row['per_second']:,.0f} | {row['caller_ms']:.2f} | {row['zygotes_ms']:.2f} | "
              f"{row['children_ms']:.2f} | {row['total_ms']:.2f} | {row['zygote_faults']:.0f} | {row['child_faults']:.0f} |")
    for kind, label in (("fork_exit", "floor: fork + _exit"), ("fork_program_exit", "floor: fork + program + _exit")):
        f = floor[kind]
        print(f"| {label} (serial, no isolation) | | | {f['parent_ms']:.2f} | {f['child_ms']:.2f} | "
              f"{f['parent_ms'] + f['child_ms']:.2f} | {f['parent_faults']:.0f} | {f['child_faults']:.0f} |")
    print("\nShares of the total CPU per program (ms), by difference:")
    shares = {"program (GSM8K vs answer = 0)": base["total_ms"] - rows["all layers, answer = 0"]["total_ms"]}
    shares.update({f"layer {layer}": base["total_ms"] - rows[f"without {layer}"]["total_ms"] for layer in LAYERS})
    shares["fork + exit floor"] = floor["fork_exit"]["parent_ms"] + floor["fork_exit"]["child_ms"]
    shares["caller (executor side)"] = base["caller_ms"]
    for name, value in shares.items():
        print(f"- {name}: {value:+.2f}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"rows": rows, "floor": floor, "shares": shares}, handle, indent=2)


if __name__ == "__main__":
    main()
