"""Prompt formats.

Teacher formats are few-shot TOML files shipped here (``pal``, ``answer-var``): the template
with a ``{question}`` placeholder, the stop sequences that end a completion at the next
exemplar, the answer convention the programs follow, and the task ids of the exemplars
(excluded from sampling by default). ``--prompt FILE`` takes a user's plain-text template.
The student's prompt is the problem as it will see it at training and evaluation time.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ekt_curate.errors import InputError

DEFAULT_STUDENT_TEMPLATE = "Question: {question}\n\n# Write a Python program that computes the answer.\n"
DEFAULT_STOP = ("\nQ:", "\n\n\n")


@dataclass(frozen=True)
class PromptFormat:
    name: str
    template: str
    stop: tuple[str, ...] = DEFAULT_STOP
    answer: str = "auto"
    exemplar_task_ids: tuple[str, ...] = ()

    def render(self, question: str) -> str:
        return self.template.replace("{question}", question.strip())


def shipped_formats() -> list[str]:
    return sorted(p.name.removesuffix(".toml").replace("_", "-")
                  for p in resources.files("ekt_curate.prompts").iterdir() if p.name.endswith(".toml"))


def load_prompt_format(name_or_path: str) -> PromptFormat:
    shipped = resources.files("ekt_curate.prompts") / f"{name_or_path.replace('-', '_')}.toml"
    if "/" not in name_or_path and not name_or_path.endswith((".txt", ".toml")) and shipped.is_file():
        spec = tomllib.loads(shipped.read_text(encoding="utf-8"))
        return PromptFormat(name=spec["name"], template=spec["template"], stop=tuple(spec["stop"]),
                            answer=spec["answer"], exemplar_task_ids=tuple(spec["exemplar_task_ids"]))
    path = Path(name_or_path)
    if not path.is_file():
        raise InputError(f"unknown prompt {name_or_path!r}: use {', '.join(shipped_formats())} or a template file")
    return PromptFormat(name=path.name, template=load_template(path))


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
