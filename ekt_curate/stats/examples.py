"""Failing samples as a reader needs to see them: the program that ran, the answer it gave, the
gold it was judged against and the verdict's detail, each bounded so a page of examples stays
readable whatever the programs print."""

from __future__ import annotations

import json
from typing import Any

from ekt_curate.sandbox.program_text import extract_program

EXAMPLES_PER_CLASS = 3
PROGRAM_LINES = 16
PROGRAM_CHARS = 1200
SNIPPET_CHARS = 160


def snippet(value: Any, limit: int = SNIPPET_CHARS) -> str:
    """One line: a string as it is, anything else as JSON; whitespace runs collapsed, cut with '…'."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def program_excerpt(text: str) -> str:
    """The program that ran (the completion's code), its first lines, saying how much was left out."""
    lines = extract_program(text).strip("\n").splitlines()
    shown, used = [], 0
    for line in lines[:PROGRAM_LINES]:
        if used + len(line) > PROGRAM_CHARS:
            shown.append(line[:max(PROGRAM_CHARS - used, 0)] + "…")
            break
        shown.append(line)
        used += len(line) + 1
    left = len(lines) - len(shown)
    return "\n".join(shown) + (f"\n… ({left} more line{'s' if left != 1 else ''})" if left > 0 else "")


def failure_example(task: str, record: dict[str, Any], verdict: dict[str, Any]) -> dict[str, str]:
    """task_id, program, answer, gold, detail. Answer and gold are what the verdict compared: the
    program's answer and the record's gold, or for code the failing case's got and expected (an
    assertion case has neither: its detail says what failed)."""
    failure = verdict.get("first_failure") if isinstance(verdict.get("first_failure"), dict) else {}
    code = "cases" in verdict or bool(failure)
    if "got" in failure:
        answer, gold = snippet(failure["got"]), snippet(failure.get("expected"))
    elif code:
        answer, gold = "(see the detail)", "(the task's tests)"
    else:
        answer = "no answer" if verdict.get("answer") is None else snippet(verdict["answer"])
        gold = snippet(record["gold"]) if record.get("gold") is not None else "not recorded"
    program = record.get("completion", record.get("code"))
    return {"task_id": snippet(task, 80),
            "program": program_excerpt(program) if isinstance(program, str) else "(not recorded)",
            "answer": answer, "gold": gold,
            "detail": snippet(failure.get("detail", verdict.get("detail")) or "", 240)}
