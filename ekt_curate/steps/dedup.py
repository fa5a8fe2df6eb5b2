"""Deduplication within each task: exact (canonical form), near (MinHash + LSH), and a
diverse cap per task (greedy farthest-first). Decisions only; the stage writes files.

MinHashes are datasketch 2's (``MinHash.bulk`` with a C-level 32-bit xxhash, scheme affine32),
computed here with numpy over blocks of shingles (``minhash_rows``), and the LSH index is
datasketch's banding kept in plain dicts (``TaskDedup._near``): the same rows and the same
candidates to the byte, without ~25 us of MinHash/MinHashLSH objects per record or datasketch's
0.7 s import (it imports scipy to choose bands; the default settings' bands are in a table).
tests/steps/test_dedup_equivalence.py checks all three against datasketch itself.
Shingles are 5-grams of canonical tokens, numbers and operators included, so
programs that differ in a constant are different programs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate

import numpy as np

SHINGLE = 5
SEED = 1
BLOCK = 2048  # shingles per numpy block in minhash_rows: 1 MiB at num_perm 128, in L2 (16k: 1.5x slower)


def shingles(tokens: Sequence[str], size: int = SHINGLE) -> list[bytes]:
    # surrogatepass: text that does not parse keeps a lone surrogate from a \ud800 escape (it
    # failed dedup with UnicodeEncodeError); text without one encodes as before
    if len(tokens) <= size:
        return [" ".join(tokens).encode("utf-8", "surrogatepass")]
    return [" ".join(tokens[i:i + size]).encode("utf-8", "surrogatepass") for i in range(len(tokens) - size + 1)]


def shingle_hashes(tokens: Sequence[str], size: int = SHINGLE) -> list[int]:
    """xxh32 of each of ``shingles(tokens)``, ~1.3x faster: the 5-grams are slices of the tokens
    joined once instead of one join and encode each (a GSM8K program has ~30 of them)."""
    from xxhash import xxh32_intdigest

    joined = " ".join(tokens)
    if len(tokens) <= size or not joined.isascii():
        return [xxh32_intdigest(gram) for gram in shingles(tokens, size)]
    data = joined.encode()
    starts = list(accumulate([len(token) + 1 for token in tokens], initial=0))  # token i starts at starts[i]
    return [xxh32_intdigest(data[start:end - 1]) for start, end in zip(starts, starts[size:])]


def minhash_matrix(shingle_sets: Sequence[list[bytes]], num_perm: int) -> np.ndarray:
    """One row of ``num_perm`` uint32 hash values per program."""
    from xxhash import xxh32_intdigest

    return minhash_rows([[xxh32_intdigest(gram) for gram in grams] for grams in shingle_sets], num_perm)


def minhash_rows(hash_sets: Sequence[list[int]], num_perm: int) -> np.ndarray:
    """The rows ``MinHash.bulk(shingle sets, hashfunc=xxh32_intdigest)`` gives, from the shingles'
    xxh32 values: datasketch 2's affine32 scheme is MurmurHash3's fmix32 of each value, then
    ``a * h + b`` mod 2^32 per permutation, then the minimum over the set. Here in numpy blocks of
    ~2k shingles instead of one MinHash copy and update per program (2.1 s for 40k programs,
    now ~0.4 s)."""
    rows = np.full((len(hash_sets), num_perm), np.uint32(0xFFFFFFFF), dtype=np.uint32)
    a, b = _permutations(num_perm)
    start = 0
    while start < len(hash_sets):  # programs [start, end) in one block
        end, size = start, 0
        while end < len(hash_sets) and (size == 0 or size + len(hash_sets[end]) <= BLOCK):
            size += len(hash_sets[end])
            end += 1
        lengths = np.fromiter((len(h) for h in hash_sets[start:end]), dtype=np.int64, count=end - start)
        hv = _fmix32(np.fromiter((v for h in hash_sets[start:end] for v in h), dtype=np.uint32, count=size))
        permuted = np.multiply(hv[:, None], a)  # (shingles, num_perm), wrapping mod 2^32
        np.add(permuted, b, out=permuted)
        filled = np.flatnonzero(lengths)  # an empty set keeps the all-max row, as in datasketch
        if len(filled):
            offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))[filled]
            rows[start + filled] = np.minimum.reduceat(permuted, offsets, axis=0)
        start = end
    return rows


def _fmix32(hv: np.ndarray) -> np.ndarray:
    hv = hv ^ (hv >> np.uint32(16))
    hv = hv * np.uint32(0x85EBCA6B)
    hv = hv ^ (hv >> np.uint32(13))
    hv = hv * np.uint32(0xC2B2AE35)
    return hv ^ (hv >> np.uint32(16))


@lru_cache(maxsize=16)
def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """``MinHash(num_perm, seed=SEED).permutations`` in datasketch 2's affine32 scheme: an odd
    ``a`` and any ``b`` per permutation, drawn in this order from RandomState(seed)."""
    generator = np.random.RandomState(SEED)
    a = generator.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def lsh_threshold(threshold: float) -> float:
    """LSH only proposes candidates: banding for a looser threshold raises recall near the
    boundary (and stays possible for thresholds near 1); the MinHash estimate decides."""
    return max(0.05, min(threshold - 0.1, 0.9))


# (bands, rows) for --threshold T and --num-perm P as MinHashLSH(lsh_threshold(T), P) computes them
# (numerical integration with scipy); a test compares every entry with datasketch
_BANDS = {(lsh_threshold(t), p): bands for (t, p), bands in {
    (0.7, 64): (10, 6), (0.7, 128): (18, 7), (0.7, 256): (32, 8),
    (0.75, 64): (9, 7), (0.75, 128): (16, 8), (0.75, 256): (28, 9),
    (0.8, 64): (8, 8), (0.8, 128): (14, 9), (0.8, 256): (25, 10),
    (0.85, 64): (7, 9), (0.85, 128): (11, 11), (0.85, 256): (21, 12),
    (0.9, 64): (5, 11), (0.9, 128): (9, 13), (0.9, 256): (17, 15),
    (0.95, 64): (4, 15), (0.95, 128): (8, 16), (0.95, 256): (13, 19)}.items()}


@lru_cache(maxsize=16)
def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """datasketch picks (bands, rows) by numerical integration, ~9 ms per MinHashLSH; once per
    run instead of once per task (7,000 tasks in GSM8K train: a minute), from _BANDS if there."""
    if (threshold, num_perm) in _BANDS:
        return _BANDS[threshold, num_perm]
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
        """What a datasketch MinHashLSH (banded for lsh_threshold) proposes, checked against the
        MinHash estimate. Its index is one dict per band keyed by the band's bytes, and a query
        gives every key that shares one band's bytes: the same here, without a MinHashLSH per
        task and a LeanMinHash per record (2.5 s of the 100k-record benchmark)."""
        if len(candidates) < 2:
            return candidates
        bands, rows = lsh_bands(lsh_threshold(threshold), num_perm)
        if bands < 2:
            raise ValueError("The number of bands are too small (b < 2)")  # as MinHashLSH refuses
        width = rows * matrix.dtype.itemsize
        buckets: list[dict[bytes, list[Member]]] = [{} for _ in range(bands)]
        kept: list[Member] = []
        for member in candidates:
            data = matrix[member.row].tobytes()
            keys = [data[i * width:(i + 1) * width] for i in range(bands)]
            proposed: dict[int, Member] = {}
            for bucket, key in zip(buckets, keys):
                for other in bucket.get(key, ()):
                    proposed[other.line] = other
            similar: list[Member] = []
            if proposed:  # LSH proposes; the MinHash estimate decides (LSH alone has false positives)
                others = list(proposed.values())
                estimates = jaccard(matrix[[m.row for m in others]], matrix[member.row])
                similar = [m for m, estimate in zip(others, estimates) if estimate >= threshold]
            if similar:
                representative = min(similar, key=lambda m: m.line)
                member.reason, member.duplicate_of = "near_duplicate", representative.line
                representative.cluster_size += member.cluster_size
            else:
                for bucket, key in zip(buckets, keys):
                    bucket.setdefault(key, []).append(member)
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
