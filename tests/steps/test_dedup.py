import numpy as np

from ekt_curate.steps.canonical import canonical_form, canonical_hash, tokens
from ekt_curate.steps.dedup import Member, TaskDedup, farthest_first, jaccard, minhash_matrix, shingles

SHORT = ("def solution():\n    eggs = 16\n    eaten = 3\n    baked = 4\n    left = eggs - eaten - baked\n"
         "    price = 2\n    return left * price\n")
LONG = "\n".join(f"x{i} = x{i - 1} * {i} + {i % 7}" if i else "x0 = 1" for i in range(30)) + "\nanswer = x29\n"


def decide(programs: list[str], threshold: float = 0.85, max_per_task: int | None = None) -> list[Member]:
    forms = [canonical_form(p) for p in programs]
    matrix = minhash_matrix([shingles(tokens(f)) for f in forms], 128)
    task = TaskDedup()
    for index, form in enumerate(forms):
        task.add(Member(line=index + 1, canonical_hash=canonical_hash(form), row=index))
    task.decide(matrix, threshold, 128, max_per_task)
    return task.members


def test_exact_duplicates_point_at_the_first():
    members = decide(["answer = 2 * 3", "result = 2*3  # same", "answer = 2 * 4"])
    assert [m.reason for m in members] == [None, "exact_duplicate", None]
    assert members[1].duplicate_of == 1 and members[0].cluster_size == 2


def test_near_duplicates_are_merged():
    members = decide([LONG, LONG + "print('done')\n"])
    assert members[1].reason == "near_duplicate" and members[1].duplicate_of == 1
    assert members[0].cluster_size == 2


def test_a_different_constant_makes_a_different_gsm8k_sized_program():
    # one constant changes 5 of ~30 shingles: Jaccard ~0.7, under the 0.85 threshold
    members = decide([SHORT, SHORT.replace("price = 2", "price = 3")])
    assert [m.reason for m in members] == [None, None]


def test_lsh_candidates_are_checked_against_the_threshold():
    members = decide([LONG, LONG + "print('done')\n"], threshold=0.99)
    assert [m.reason for m in members] == [None, None]


def test_minhash_rows_estimate_jaccard():
    a = shingles(tokens(canonical_form(LONG)))
    b = shingles(tokens(canonical_form(LONG + "print('done')\n")))
    true = len(set(a) & set(b)) / len(set(a) | set(b))
    matrix = minhash_matrix([a, b], 256)
    assert abs(jaccard(matrix[[0]], matrix[1])[0] - true) < 0.1


def test_farthest_first_is_diverse_and_deterministic():
    rows = np.array([[1, 1, 1, 1], [1, 1, 1, 2], [9, 9, 9, 9], [1, 1, 2, 2], [9, 9, 9, 8]], dtype=np.uint32)
    assert farthest_first(rows, 2) == [0, 2]          # the far one, not the near copies
    assert farthest_first(rows, 2) == farthest_first(rows, 2)
    assert farthest_first(rows, 9) == [0, 1, 2, 3, 4]


def test_max_per_task_keeps_k_diverse_members():
    programs = [f"answer = {i} * 3 + {i}\nprint(answer)" for i in range(6)]
    members = decide(programs, max_per_task=3)
    assert sum(m.reason is None for m in members) == 3
    assert {m.reason for m in members} == {None, "max_per_task"}
