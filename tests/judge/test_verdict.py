"""One result and its gold -> the verdict: hostile results become no_answer with a reason, failed
verdicts carry a bounded stderr excerpt; unusable golds are found when the gold is read."""

import json

import pytest

from ekt_curate.judge import make_checker, read_gold, stderr_excerpt, verdict_of
from ekt_curate.sandbox import Result, Status


class Out:
    def __init__(self, verdict):
        self.verdict = verdict


def run(result, gold, checker="strict"):
    judged = verdict_of(result, read_gold(gold), "", make_checker(checker), answer_chars=1000)
    json.dumps(judged, ensure_ascii=False).encode("utf-8")  # writable as the output line is
    return Out(judged), None


def ok(kind, text, **fields):
    return Result(Status.OK, answer_kind=kind, answer_text=text, **fields)


def test_pass():
    item, _ = run(ok("int", "72"), "72")
    assert item.verdict["status"] == "pass" and item.verdict["answer"] == 72 and "stderr" not in item.verdict


def test_hostile_answers_are_no_answer_with_a_reason():
    for kind, text in [("decimal", "1E+5000"), ("decimal", "1E+999999999"), ("fraction", "1/0"),
                       ("str", "1" * 400 + ".5" + "0" * 600), ("int", "9" * 4500)]:
        item, _ = run(ok(kind, text), "72")
        assert item.verdict["status"] == "no_answer" and item.verdict["detail"], (kind, text[:20])


def test_a_text_answer_of_exactly_answer_chars_is_judged():
    # The sandbox refuses longer texts itself, so one of exactly the limit is whole.
    item, _ = run(ok("str", " " * 998 + "72"), "72")
    assert item.verdict["status"] == "pass"


def test_a_cut_answer_is_never_judged_whole():
    item, _ = run(ok("str", "-" + " " * 999 + "5"), "5")  # longer than the limit: only a forged report
    assert item.verdict["status"] == "no_answer" and "truncated" in item.verdict["detail"]
    cut = ok("int", "72")
    object.__setattr__(cut, "truncated", True)  # a sandbox that marks a value cut: still never judged
    item, _ = run(cut, "72")
    assert item.verdict["status"] == "no_answer" and "truncated" in item.verdict["detail"]


def test_lone_surrogates_do_not_break_the_verdict():
    item, _ = run(ok("str", "\ud800 cats"), "2 cats")
    assert item.verdict["status"] == "wrong_answer"
    item, _ = run(Result(Status.RUNTIME_ERROR, detail="ValueError: \udcff", stderr_tail="\udcff"), "1")
    assert "\ufffd" in item.verdict["detail"]


def test_a_gold_out_of_bounds_is_unusable_with_its_reason():
    gold = read_gold("9" * 5000)
    assert not gold.usable and gold.problem.startswith("bad gold:")


@pytest.mark.parametrize(("raw", "usable"), [("#### 72", True), (72, True), ("\\boxed{72}", True), (None, False),
                                              ("", False), ("####", False), (True, False), ([72], False)])
def test_gold_forms(raw, usable):
    gold = read_gold(raw)
    assert gold.usable is usable and (gold.problem or "").startswith(("", "no gold:"))
    if raw == "#### 72":
        assert gold.value == "72"


def test_failed_verdicts_carry_a_bounded_stderr_excerpt():
    stderr = "\n".join(f"line {n}" for n in range(50)) + "\nOpenBLAS blas_thread_init: pthread_create failed\n"
    item, _ = run(Result(Status.NO_ANSWER, detail="program exited with code 1 before reporting",
                         stderr_tail=stderr), "1")
    assert item.verdict["stderr"].endswith("pthread_create failed") and len(item.verdict["stderr"]) <= 401
    assert len(stderr_excerpt("x" * 5000)) <= 401
