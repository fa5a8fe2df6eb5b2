"""Deduplication within each task: exact (canonical form), near (MinHash + LSH), and a
diverse cap per task (greedy farthest-first). Decisions only; the stage writes files.

MinHashes are computed in bulk (``MinHash.bulk`` with a C-level 32-bit xxhash, one
batched update per program), never with one ``update()`` per token in Python.
Shingles are 5-grams of canonical tokens, numbers and operators included, so
programs that differ in a constant are different programs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

SHINGLE = 5
SEED = 1


def shingles(tokens: Sequence[str], size: int = SHINGLE) -> list[bytes]:
    if len(tokens) <= size:
        return [" ".join(tokens).encode()]
    return [" ".join(tokens[i:i + size]).encode() for i in range(len(tokens) - size + 1)]


def minhash_matrix(shingle_sets: Sequence[list[bytes]], num_perm: int) -> np.ndarray:
    """One row of ``num_perm`` uint32 hash values per program."""
    import xxhash
    from datasketch import MinHash

    if not shingle_sets:
        return np.zeros((0, num_perm), dtype=np.uint32)
    hashes = MinHash.bulk(shingle_sets, num_perm=num_perm, seed=SEED, hashfunc=xxhash.xxh32_intdigest)
    return np.vstack([m.hashvalues for m in hashes]).astype(np.uint32)


@lru_cache(maxsize=16)
def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """datasketch picks (bands, rows) by numerical integration, ~9 ms per MinHashLSH; once per
    run instead of once per task (7,000 tasks in GSM8K train: a minute)."""
    from datasketch import MinHashLSH

    probe = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return probe.b, probe.r


def jaccard(rows: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity of each of ``rows`` with ``row``."""
    return (rows == row).mean(axis=1)


@dataclass
class Member:
    line: int
    canonical_hash: str
    row: int                       # index into the MinHash matrix
    reason: str | None = None      # why dropped; None when kept
    duplicate_of: int | None = None
    cluster_size: int = 1


@dataclass
class TaskDedup:
    """Decisions for one task's eligible samples, in input order."""

    members: list[Member] = field(default_factory=list)

    def add(self, member: Member) -> None:
        self.members.append(member)

    def decide(self, matrix: np.ndarray, threshold: float, num_perm: int, max_per_task: int | None) -> None:
        by_hash: dict[str, Member] = {}
        representatives: list[Member] = []
        for member in self.members:  # exact: the first of each canonical form stays
            first = by_hash.get(member.canonical_hash)
            if first is None:
                by_hash[member.canonical_hash] = member
                representatives.append(member)
            else:
                member.reason, member.duplicate_of = "exact_duplicate", first.line
                first.cluster_size += 1
        kept = self._near(representatives, matrix, threshold, num_perm)
        if max_per_task is not None and len(kept) > max_per_task:
            chosen = set(farthest_first(matrix[[m.row for m in kept]], max_per_task))
            for index, member in enumerate(kept):
                if index not in chosen:
                    member.reason = "max_per_task"

    @staticmethod
    def _near(candidates: list[Member], matrix: np.ndarray, threshold: float, num_perm: int) -> list[Member]:
        from datasketch import LeanMinHash, MinHashLSH

        if len(candidates) < 2:
            return candidates
        # LSH only proposes candidates: banding for a looser threshold raises recall near the
        # boundary (and stays possible for thresholds near 1); the MinHash estimate decides.
        lsh_threshold = max(0.05, min(threshold - 0.1, 0.9))
        lsh = MinHashLSH(threshold=lsh_threshold, num_perm=num_perm, params=lsh_bands(lsh_threshold, num_perm))
        kept: list[Member] = []
        by_line: dict[int, Member] = {}
        for member in candidates:
            sketch = LeanMinHash(seed=SEED, hashvalues=matrix[member.row], scheme="affine32")
            similar = [by_line[line] for line in lsh.query(sketch)]
            # LSH proposes; the MinHash estimate decides (LSH alone has false positives)
            similar = [m for m in similar if jaccard(matrix[[m.row]], matrix[member.row])[0] >= threshold]
            if similar:
                representative = min(similar, key=lambda m: m.line)
                member.reason, member.duplicate_of = "near_duplicate", representative.line
                representative.cluster_size += member.cluster_size
            else:
                lsh.insert(member.line, sketch, check_duplication=False)
                by_line[member.line] = member
                kept.append(member)
        return kept


def farthest_first(rows: np.ndarray, k: int) -> list[int]:
    """Indices of k rows chosen greedily to be far apart (1 - Jaccard), deterministic:
    start from the first row, then always add the row farthest from those chosen
    (ties go to the earlier row)."""
    count = len(rows)
    if k >= count:
        return list(range(count))
    chosen = [0]
    nearest = 1.0 - jaccard(rows, rows[0])  # distance of each row to the chosen set
    nearest[0] = -1.0
    while len(chosen) < k:
        pick = int(np.argmax(nearest))
        chosen.append(pick)
        nearest = np.minimum(nearest, 1.0 - jaccard(rows, rows[pick]))
        nearest[chosen] = -1.0
    return sorted(chosen)
