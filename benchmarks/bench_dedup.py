"""Near-duplicate detection on 100k records: ekt-curate's bulk MinHash against a naive datasketch loop.

    python benchmarks/bench_dedup.py [--records 100000] [--json out.json]

Both start from the same canonical forms and 5-gram shingles (canonicalization is timed
separately, it is shared) and must reach the same decisions:
- ekt-curate: ``MinHash.bulk`` with a C-level xxhash (one batched update per program),
  one LSH per task, estimates checked against the threshold (``steps.dedup``);
- naive: ``MinHash()`` per record with one ``update()`` per 5-gram (datasketch's default
  SHA-1 hash), one LSH per task.
Records are annotation-teacher samples of all GSM8K train problems, many per problem.
"""

from __future__ import annotations

import argparse
import json
import time

from datasketch import MinHash, MinHashLSH

from ekt_curate.annotation_teacher import samples
from ekt_curate.problems import iter_problems
from ekt_curate.steps.canonical import canonical_form, canonical_hash, tokens
from ekt_curate.steps.dedup import Member, TaskDedup, minhash_matrix, shingles


def naive(tasks: dict[str, list[list[bytes]]], threshold: float, num_perm: int) -> int:
    dropped = 0
    for records in tasks.values():
        lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        kept: dict[int, MinHash] = {}
        for index, grams in enumerate(records):
            m = MinHash(num_perm=num_perm)
            for gram in grams:
                m.update(gram)
            if any(kept[key].jaccard(m) >= threshold for key in lsh.query(m)):  # same rule as ours
                dropped += 1
            else:
                lsh.insert(index, m)
                kept[index] = m
    return dropped


def ours(tasks: dict[str, list[list[bytes]]], threshold: float, num_perm: int) -> int:
    flat = [grams for records in tasks.values() for grams in records]
    matrix = minhash_matrix(flat, num_perm)
    dropped, row = 0, 0
    for records in tasks.values():
        task = TaskDedup()
        for index in range(len(records)):
            task.add(Member(line=row + index, canonical_hash=str(row + index), row=row + index))
        row += len(records)
        task.decide(matrix, threshold, num_perm, None)
        dropped += sum(m.reason == "near_duplicate" for m in task.members)
    return dropped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--threshold", type=float, default=0.85)
    parser.add_argument("--num-perm", type=int, default=128)
    parser.add_argument("--json")
    args = parser.parse_args()
    problems = list(iter_problems("gsm8k:train"))
    per_problem = max(1, args.records // len(problems) + 1)
    start = time.perf_counter()
    tasks: dict[str, list[list[bytes]]] = {}
    seen: set[tuple[str, str]] = set()
    count = 0
    for sample in samples(problems, per_problem, seed=3):
        if count == args.records:
            break
        form = canonical_form(str(sample["completion"]))
        key = (str(sample["task_id"]), canonical_hash(form))
        count += 1
        if key in seen:  # exact duplicates are removed before near-dedup in both pipelines
            continue
        seen.add(key)
        tasks.setdefault(str(sample["task_id"]), []).append(shingles(tokens(form)))
    canonical_seconds = time.perf_counter() - start
    unique = sum(len(r) for r in tasks.values())
    start = time.perf_counter()
    ours_dropped = ours(tasks, args.threshold, args.num_perm)
    ours_seconds = time.perf_counter() - start
    start = time.perf_counter()
    naive_dropped = naive(tasks, args.threshold, args.num_perm)
    naive_seconds = time.perf_counter() - start
    print(f"{count:,} records, {unique:,} after exact dedup, {len(tasks):,} tasks; "
          f"canonicalization {canonical_seconds:.1f} s (shared)\n")
    print("| near-dedup method | seconds | records/s | near duplicates found | speed-up |")
    print("|---|---:|---:|---:|---:|")
    print(f"| naive: update() per 5-gram, SHA-1 | {naive_seconds:.1f} | {unique / naive_seconds:,.0f} | {naive_dropped:,} | 1.0x |")
    print(f"| ekt-curate: MinHash.bulk + xxhash | {ours_seconds:.1f} | {unique / ours_seconds:,.0f} | {ours_dropped:,} | "
          f"{naive_seconds / ours_seconds:.1f}x |")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"records": count, "unique": unique, "naive_seconds": naive_seconds, "ours_seconds": ours_seconds,
                       "naive_found": naive_dropped, "ours_found": ours_dropped}, handle, indent=2)


if __name__ == "__main__":
    main()
