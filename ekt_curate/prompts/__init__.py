"""Prompt formats. The student's prompt is the problem as it will see it at training
and evaluation time; teacher few-shot formats arrive with `ekt-curate sample`."""

from __future__ import annotations

from pathlib import Path

from ekt_curate.errors import InputError

DEFAULT_STUDENT_TEMPLATE = "Question: {question}\n\n# Write a Python program that computes the answer.\n"


def load_template(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read prompt template: {exc.strerror or exc}") from None
    if "{question}" not in text:
        raise InputError(f"{path}: a prompt template needs a {{question}} placeholder")
    return text


def render_student_prompt(template: str, question: str) -> str:
    return template.replace("{question}", question.strip())
