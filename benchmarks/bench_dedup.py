"""`ekt-curate dedup` on 100,000 annotation-teacher records: this checkout against the code before
issue 21 (git commit ``--baseline``), end to end as a user runs it, in interleaved rounds.

    python benchmarks/bench_dedup.py [--records 100000] [--rounds 3] [--baseline ba4bdf8] [--json out.json]
    python benchmarks/bench_dedup.py --naive-near   # the README's near-dedup table: datasketch loop vs ours

The input is every GSM8K train problem's annotation-teacher samples (14 per problem, seed 3, the
first ``--records``), written once as JSON Lines without verdicts (``--unverified``: every record
is deduped). Each round runs, one after the other, as separate processes (imports included):
- baseline: ``python -m ekt_curate dedup`` from ``git archive <baseline> ekt_curate`` in a temporary folder;
- new, 1 process: this checkout's stage with ``processes=1``;
- new: this checkout's ``python -m ekt_curate dedup`` (a process pool on a machine with several CPUs).
Every run's kept file and dropped file must equal the first baseline run's byte for byte, and its
sidecar too apart from ``command`` (the output paths differ); the table says so, and the exit
status is 1 if not. Wall seconds are the median of the rounds; CPU is user + system of the
command and its worker processes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BASELINE = "ba4bdf8"  # the last commit before issue 21's changes to dedup


def build_input(path: Path, records: int) -> int:
    from ekt_curate.annotation_teacher import samples
    from ekt_curate.problems import iter_problems

    problems = list(iter_problems("gsm8k:train"))
    per_problem = max(1, records // len(problems) + 1)
    count = 0
    with path.open("w") as handle:
        for sample in samples(problems, per_problem, seed=3):
            if count == records:
                break
            handle.write(json.dumps(sample) + "\n")
            count += 1
    return count


def baseline_tree(commit: str, folder: Path) -> Path:
    folder.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, "ekt_curate"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    found = subprocess.run([sys.executable, "-c", "import ekt_curate; print(ekt_curate.__file__)"], cwd=folder,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert Path(found).resolve().is_relative_to(folder.resolve()), found  # the baseline imports itself
    return folder


ONE_PROCESS = ("import sys; from pathlib import Path; from ekt_curate.stages.dedup import DedupConfig, run_dedup; "
               "run_dedup(DedupConfig(input=Path(sys.argv[1]), output=Path(sys.argv[2]), unverified=True, "
               "overwrite=True, processes=1))")


def run(variant: str, source: Path, output: Path, base: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one dedup run, as a separate process."""
    if variant == "new, 1 process":
        command, cwd = [sys.executable, "-c", ONE_PROCESS, str(source), str(output)], REPO
    else:
        command = [sys.executable, "-m", "ekt_curate", "dedup", "-q", "--unverified", "--overwrite",
                   str(source), "-o", str(output)]
        cwd = base if variant == "baseline" else REPO
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{variant}: exit {done.returncode}\n{done.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def outputs(output: Path) -> tuple[bytes, bytes | None, dict]:
    meta = json.loads(Path(f"{output}.meta.json").read_text())
    meta.pop("command", None)
    dropped = output.with_name(output.stem + ".dropped.jsonl")  # absent when nothing was dropped
    return output.read_bytes(), dropped.read_bytes() if dropped.exists() else None, meta


def near_table(records: int, threshold: float = 0.85, num_perm: int = 128) -> None:
    """Near-dedup alone, from the same canonical forms and 5-gram shingles: a naive datasketch loop
    (``MinHash()`` and one ``update()`` per 5-gram, SHA-1, one MinHashLSH per task) against
    ekt-curate's (steps/dedup.py: numpy MinHash rows, LSH bands computed once). Both check LSH's
    candidates against the threshold; ours bands its LSH for a looser one."""
    from datasketch import MinHash, MinHashLSH

    from ekt_curate.annotation_teacher import samples
    from ekt_curate.problems import iter_problems
    from ekt_curate.steps.canonical import canonical_form, canonical_hash, tokens
    from ekt_curate.steps.dedup import Member, TaskDedup, minhash_matrix, shingles

    problems = list(iter_problems("gsm8k:train"))
    tasks: dict[str, list[list[bytes]]] = {}
    seen: set[tuple[str, str]] = set()
    count = 0
    for sample in samples(problems, max(1, records // len(problems) + 1), seed=3):
        if count == records:
            break
        form = canonical_form(str(sample["completion"]))
        key = (str(sample["task_id"]), canonical_hash(form))
        count += 1
        if key not in seen:  # exact duplicates are removed before near-dedup in both
            seen.add(key)
            tasks.setdefault(str(sample["task_id"]), []).append(shingles(tokens(form)))
    unique = sum(len(r) for r in tasks.values())
    start = time.perf_counter()
    matrix, row, ours = minhash_matrix([g for r in tasks.values() for g in r], num_perm), 0, 0
    for grams in tasks.values():
        task = TaskDedup([Member(line=row + i, canonical_hash=str(row + i), row=row + i) for i in range(len(grams))])
        row += len(grams)
        task.decide(matrix, threshold, num_perm, None)
        ours += sum(m.reason == "near_duplicate" for m in task.members)
    ours_seconds = time.perf_counter() - start
    start, naive = time.perf_counter(), 0
    for grams in tasks.values():
        lsh, kept = MinHashLSH(threshold=threshold, num_perm=num_perm), {}
        for index, shingle_set in enumerate(grams):
            m = MinHash(num_perm=num_perm)
            for gram in shingle_set:
                m.update(gram)
            if any(kept[key].jaccard(m) >= threshold for key in lsh.query(m)):
                naive += 1
            else:
                lsh.insert(index, m)
                kept[index] = m
    naive_seconds = time.perf_counter() - start
    print(f"{count:,} records, {unique:,} after exact dedup, {len(tasks):,} tasks\n")
    print("| near-dedup method | seconds | records/s | near duplicates found | speed-up |")
    print("|---|---:|---:|---:|---:|")
    print(f"| naive: update() per 5-gram, SHA-1 | {naive_seconds:.1f} | {unique / naive_seconds:,.0f} | "
          f"{naive:,} | 1.0x |")
    print(f"| ekt-curate: numpy MinHash rows + dict LSH bands | {ours_seconds:.1f} | {unique / ours_seconds:,.0f} | "
          f"{ours:,} | {naive_seconds / ours_seconds:.1f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", default=BASELINE, help=f"git commit to compare with (default {BASELINE})")
    parser.add_argument("--naive-near", action="store_true", help="only the near-dedup table (datasketch loop vs ours)")
    parser.add_argument("--json")
    args = parser.parse_args()
    if args.naive_near:
        return near_table(args.records)
    variants = ["baseline", "new, 1 process", "new"]
    with tempfile.TemporaryDirectory(prefix="bench-dedup-") as tmp:
        folder = Path(tmp)
        source = folder / "samples.jsonl"
        count = build_input(source, args.records)
        base = baseline_tree(args.baseline, folder / "baseline")
        times: dict[str, list[tuple[float, float]]] = {v: [] for v in variants}
        reference = None
        identical = {v: True for v in variants}
        for round_ in range(args.rounds):
            for variant in variants:  # interleaved: a busy machine slows every variant alike
                output = folder / f"out-{variant.replace(', ', '-').replace(' ', '-')}-{round_}.jsonl"
                times[variant].append(run(variant, source, output, base))
                result = outputs(output)
                reference = reference or result
                identical[variant] &= result == reference
                print(f"round {round_ + 1}: {variant}: {times[variant][-1][0]:.2f} s", file=sys.stderr)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{count:,} records, {args.rounds} interleaved rounds, {cpus} CPUs, load average {load:.1f} at the end\n")
    print("| `ekt-curate dedup`, end to end | wall s (median) | records/s | CPU s | output identical to baseline |")
    print("|---|---:|---:|---:|---|")
    summary = {}
    for variant in variants:
        wall = statistics.median(t for t, _ in times[variant])
        cpu = statistics.median(c for _, c in times[variant])
        label = f"baseline ({args.baseline})" if variant == "baseline" else variant
        print(f"| {label} | {wall:.2f} | {count / wall:,.0f} | {cpu:.1f} | {'yes' if identical[variant] else 'NO'} |")
        summary[variant] = {"wall": [t for t, _ in times[variant]], "cpu": [c for _, c in times[variant]],
                            "records_per_s": count / wall, "identical": identical[variant]}
    if args.json:
        Path(args.json).write_text(json.dumps({"records": count, "baseline": args.baseline, **summary}, indent=2))
    if not all(identical.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
