"""One sandbox result and its gold -> the verdict fields (status, passed, answer, detail, ...).

Everything a result carries is untrusted (a program can forge its report): the answer is parsed
with hard bounds (ekt_curate.judgement), so a hostile value is that sample's ``no_answer`` with a
reason, never an exception that stops the run.

Statuses: ``pass``, ``wrong_answer``, the sandbox's failures (``syntax_error``, ``runtime_error``,
``timeout``, ``memory_limit``, ``output_limit``, ``killed``, ``no_answer``, ``sandbox_error``),
``no_program`` (the completion holds no code: it is never run, and it is a failure like the
others), and ``bad_gold`` (a judge that cannot reject the sample, like the reward, marks it so).
"""

from __future__ import annotations

from typing import Any

from ekt_curate.judge.checkers import Checker
from ekt_curate.judge.explain import explain
from ekt_curate.judge.gold import Gold
from ekt_curate.judgement import clean_text, from_reported
from ekt_curate.sandbox import Status

STDERR_LINES, STDERR_CHARS = 5, 400  # the excerpt a failed verdict carries
DETAIL_CHARS = 300
STATUSES = ("pass", "wrong_answer", "syntax_error", "runtime_error", "timeout", "memory_limit", "output_limit",
            "killed", "no_answer", "no_program", "sandbox_error", "bad_gold")


def stderr_excerpt(stderr: str) -> str:
    """The last few non-empty lines of a program's stderr, capped: why it failed, at a glance."""
    lines = [line.rstrip() for line in (stderr or "").splitlines() if line.strip()]
    text = "\n".join(lines[-STDERR_LINES:])
    if len(text) > STDERR_CHARS:
        text = "…" + text[-STDERR_CHARS:]
    return clean_text(text)


def failed(status: str, detail: str) -> dict[str, object]:
    """The verdict of a sample that was not run (no program, no usable gold)."""
    return {"status": status, "passed": False, "answer": None, "detail": clean_text(detail, DETAIL_CHARS),
            "cpu_ms": 0.0, "wall_ms": 0.0, "stderr": ""}


def verdict_of(result: Any, gold: Gold, program: str, checker: Checker, answer_chars: int | None = None,
               policy: Any = None) -> dict[str, object]:
    """The verdict for one sandbox result and its (usable) gold."""
    assert gold.answer is not None, "a sample without a usable gold is never run"
    answer_value: object = None
    flags: dict[str, object] = {}
    if result.status is Status.OK:
        answer = from_reported(result.answer_kind, result.answer_text,
                               cut=bool(getattr(result, "truncated", False)), answer_chars=answer_chars)
        if answer.problem:
            passed, status, detail = False, "no_answer", answer.problem
        else:
            passed, detail = checker.check(answer, gold.answer, result.answer_text, gold.value)
            status = "pass" if passed else "wrong_answer"
            answer_value = answer.display()
            if isinstance(answer_value, str):
                answer_value = clean_text(answer_value, DETAIL_CHARS)
            # only the strict checker cannot compare a text gold with a number; math-verify does
            if not passed and checker.name == "strict" and gold.answer.text is not None and answer.number is not None:
                flags["gold_not_numeric"] = True
    else:
        passed, status, detail = False, result.status.value, result.detail
    verdict: dict[str, object] = {"status": status, "passed": passed, "answer": answer_value,
                                  "detail": clean_text(detail or "", DETAIL_CHARS),
                                  "cpu_ms": round(result.cpu_ms, 1), "wall_ms": round(result.wall_ms, 1)}
    if not passed:
        verdict["stderr"] = stderr_excerpt(result.stderr_tail)
        why = explain(status, str(verdict["detail"]), result.stderr_tail or "", program, policy)
        if why:
            # The cause last and whole (the detail is capped), after the sandbox's own words, so
            # stats still groups failures by exception type or by the sandbox's detail.
            room = DETAIL_CHARS - len(why) - 3  # ": " and a cut's "…"
            verdict["detail"] = f"{clean_text(str(verdict['detail']), max(room, 20))}: {why}"
    verdict.update(flags)
    return verdict
