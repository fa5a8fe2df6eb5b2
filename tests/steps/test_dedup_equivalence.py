"""steps/dedup.py computes MinHash rows, LSH bands and LSH candidates itself: each equals datasketch's."""

from __future__ import annotations

import random

import numpy as np
import pytest
import xxhash
from datasketch import LeanMinHash, MinHash, MinHashLSH

from ekt_curate.steps import dedup
from ekt_curate.steps.canonical import canonical_form, tokens
from ekt_curate.steps.dedup import Member, TaskDedup, jaccard, minhash_rows, shingle_hashes, shingles


@pytest.mark.parametrize("num_perm", [16, 64, 128, 256])
def test_permutations_are_datasketchs(num_perm):
    a, b = MinHash(num_perm=num_perm, seed=dedup.SEED).permutations
    mine = dedup._permutations(num_perm)
    assert np.array_equal(mine[0], a) and np.array_equal(mine[1], b)


def test_rows_are_minhash_bulks():
    rng = random.Random(5)
    words = ["v0", "=", "1", "+", "*", "(", ")", "v1", "return", "print", "é", "2.5", "//"]
    sets = [shingles([rng.choice(words) for _ in range(rng.randrange(0, 60))]) for _ in range(300)]
    sets.append([])  # an empty set keeps datasketch's all-max row
    expected = np.vstack([m.hashvalues for m in MinHash.bulk(sets, num_perm=128, seed=dedup.SEED,
                                                              hashfunc=xxhash.xxh32_intdigest)])
    old_block, dedup.BLOCK = dedup.BLOCK, 100  # many blocks, and sets larger than a block
    try:
        assert np.array_equal(dedup.minhash_matrix(sets, 128), expected)
    finally:
        dedup.BLOCK = old_block
    assert np.array_equal(dedup.minhash_matrix(sets, 128), expected)


@pytest.mark.parametrize("words", [[], ["a"], list("abcde"), list("abcdef"), ["v0", "=", "é", "1", "+", "2", "3"],
                                   tokens(canonical_form("def f(a):\n    return a * 2 + 3 - 4 / 5"))])
def test_shingle_hashes_are_the_shingles_xxh32(words):
    assert shingle_hashes(words) == [xxhash.xxh32_intdigest(gram) for gram in shingles(words)]
    assert np.array_equal(minhash_rows([shingle_hashes(words)], 64), dedup.minhash_matrix([shingles(words)], 64))


def test_band_table_is_datasketchs():
    for (threshold, num_perm), bands in dedup._BANDS.items():
        probe = MinHashLSH(threshold=threshold, num_perm=num_perm)
        assert (probe.b, probe.r) == bands, (threshold, num_perm)


def near_with_datasketch(candidates, matrix, threshold, num_perm):
    """TaskDedup._near as first written: a MinHashLSH per task, a LeanMinHash per record."""
    lsh_threshold = dedup.lsh_threshold(threshold)
    lsh = MinHashLSH(threshold=lsh_threshold, num_perm=num_perm, params=dedup.lsh_bands(lsh_threshold, num_perm))
    kept, by_line = [], {}
    for member in candidates:
        sketch = LeanMinHash(seed=dedup.SEED, hashvalues=matrix[member.row], scheme="affine32")
        similar = [by_line[line] for line in lsh.query(sketch)]
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


@pytest.mark.parametrize(("threshold", "num_perm"), [(0.85, 128), (0.7, 64), (0.97, 128)])
def test_near_duplicates_as_datasketchs_lsh_finds_them(threshold, num_perm):
    rng = random.Random(11)
    base = [f"t{i}" for i in range(60)]
    sets = []
    for _ in range(400):  # variants of a few programs: one to a few tokens changed, some shuffled
        words = list(base[:rng.randrange(20, 60)])
        for _ in range(rng.choice([0, 1, 1, 2, 3, 8])):
            words[rng.randrange(len(words))] = f"c{rng.randrange(30)}"
        sets.append(shingles(words))
    matrix = dedup.minhash_matrix(sets, num_perm)
    decisions = []
    for near in (TaskDedup._near, near_with_datasketch):
        members = [Member(line=i + 1, canonical_hash=str(i), row=i) for i in range(len(sets))]
        kept = near(members, matrix, threshold, num_perm)
        decisions.append(([m.line for m in kept], [(m.reason, m.duplicate_of, m.cluster_size) for m in members]))
    assert decisions[0] == decisions[1]
    assert 10 < len(decisions[0][0]) < 390  # both kinds of decision were made
