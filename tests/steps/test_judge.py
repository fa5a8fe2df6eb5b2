"""The judge step: hostile results become no_answer with a reason, bad golds reject the line,
failed verdicts carry a bounded stderr excerpt."""

import json

from ekt_curate.sandbox import Result, Status
from ekt_curate.steps.base import Item
from ekt_curate.steps.judge import JudgeAnswers, stderr_excerpt


def run(result, gold, **options):
    item = Item(1, b"{}", record={}, task_id="t", program="", gold=gold, result=result)
    judge = JudgeAnswers(answer_chars=1000, **options)
    out = next(judge(iter([item])))
    if out.verdict is not None:
        json.dumps(out.verdict, ensure_ascii=False).encode("utf-8")  # writable as the output line is
    return out, judge


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


def test_a_gold_out_of_bounds_rejects_the_line():
    item, _ = run(ok("int", "1"), "9" * 5000)
    assert item.reject.startswith("bad gold:") and item.verdict is None


def test_failed_verdicts_carry_a_bounded_stderr_excerpt():
    stderr = "\n".join(f"line {n}" for n in range(50)) + "\nOpenBLAS blas_thread_init: pthread_create failed\n"
    item, _ = run(Result(Status.NO_ANSWER, detail="program exited with code 1 before reporting",
                         stderr_tail=stderr), "1")
    assert item.verdict["stderr"].endswith("pthread_create failed") and len(item.verdict["stderr"]) <= 401
    assert len(stderr_excerpt("x" * 5000)) <= 401


def test_text_gold_with_numeric_answers_is_counted_and_warned_once():
    warnings = []
    judge = JudgeAnswers(warn=warnings.append)
    items = [Item(n, b"{}", record={}, task_id=f"t{n % 2}", gold="\\frac{3}{4}", result=ok("float", "0.75"))
             for n in range(4)]
    verdicts = [item.verdict for item in judge(iter(items))]
    assert all(v["gold_not_numeric"] for v in verdicts)
    assert judge.gold_not_numeric == {"t0", "t1"} and len(warnings) == 1 and "frac" in warnings[0]


def test_math_verify_compares_text_golds_so_none_is_flagged():
    """A wrong answer to a LaTeX gold under math-verify is a wrong answer, not a gold that 'can
    never pass': the flag and its warning once sent math-verify users to math-verify."""
    warnings = []
    judge = JudgeAnswers(checker="math-verify", warn=warnings.append)
    try:
        items = [Item(1, b"{}", record={}, task_id="t", gold="\\boxed{72}", result=ok("float", "72.5")),
                 Item(2, b"{}", record={}, task_id="u", gold="\\boxed{72}", result=ok("int", "72"))]
        verdicts = [item.verdict for item in judge(iter(items))]
    finally:
        judge.close()
    assert [v["status"] for v in verdicts] == ["wrong_answer", "pass"]
    assert not any(v.get("gold_not_numeric") for v in verdicts) and judge.gold_not_numeric == set() and not warnings
