"""Prompt formats.

Teacher formats are few-shot TOML files shipped here (``pal``, ``answer-var``): the template
with a ``{question}`` placeholder, the stop sequences that end a completion at the next
exemplar, the answer convention the programs follow, and the task ids of the exemplars
(excluded from sampling by default). ``--prompt FILE`` takes a user's plain-text template.
Chat formats (``pal-chat``, ``answer-var-chat``) hold a system message and the same exemplars,
read from the text format they name, as alternating user/assistant turns. For code problems
(``--problems humaneval`` or records with tests): ``humaneval`` continues the problem's prompt
(completion style, cut at the next top-level statement), ``code-chat`` asks an instruct model for
the whole solution in one fenced block.
``--exemplars K`` keeps a format's first K shots (and leaves out of sampling only those K
problems), for a model whose context the whole prompt does not fit.
The student's prompt is the problem as it will see it at training and evaluation time.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
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
    chat: bool = False                          # a chat format: messages, not one text
    system: str | None = None
    turns: tuple[tuple[str, str], ...] = ()     # (user, assistant) exemplar turns
    user: str = "{question}"
    strip: bool = True                          # strip the question (not for code: a prompt ends as it ends)

    def render(self, question: str) -> str:
        if self.chat:
            raise InputError(f"prompt {self.name!r} is a chat format: use it with --endpoint chat (openai) "
                             "or --chat (transformers, vllm)")
        return self.template.replace("{question}", question.strip() if self.strip else question)

    def messages(self, question: str) -> list[dict[str, str]]:
        """Chat messages: a text format becomes one user message holding the whole few-shot prompt."""
        if not self.chat:
            return [{"role": "user", "content": self.render(question)}]
        messages = [{"role": "system", "content": self.system}] if self.system else []
        for user, assistant in self.turns:
            messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
        return messages + [{"role": "user", "content": self.user.replace("{question}", question.strip())}]


# An exemplar in a text format: "Q: <question>\n\n# <header>:\n<program>", blocks three newlines apart.
_EXEMPLAR = re.compile(r"Q: (.*?)\n\n# [^\n]*Python:\n(.*?)(?:\n\n\n|\Z)", re.DOTALL)


def exemplars(fmt: PromptFormat) -> list[tuple[str, str]]:
    """(question, program) pairs of a shipped text format, in order."""
    shots = fmt.template.rsplit("Q: {question}", 1)[0]
    return [(question, program.rstrip("\n")) for question, program in _EXEMPLAR.findall(shots)]


def shot_count(fmt: PromptFormat) -> int:
    return len(fmt.turns) if fmt.chat else len(_shot_spans(fmt))


def with_exemplars(fmt: PromptFormat, k: int) -> PromptFormat:
    """The format with only its first ``k`` shots (0: zero-shot), the rest of it unchanged."""
    count = shot_count(fmt)
    if not 0 <= k <= count:
        shape = ("" if fmt.chat or count else
                 " (a template file's shots must be 'Q: ...' blocks with a '# ... Python:' line, three newlines apart)")
        raise InputError(f"--exemplars {k}: prompt {fmt.name!r} has {count} exemplars{shape}")
    if k == count:
        return fmt
    ids = fmt.exemplar_task_ids[:k]
    if fmt.chat:
        return replace(fmt, turns=fmt.turns[:k], exemplar_task_ids=ids)
    spans = _shot_spans(fmt)
    kept = fmt.template[:spans[k - 1][1]] if k else fmt.template[:spans[0][0]]
    return replace(fmt, template=kept + fmt.template[spans[-1][1]:], exemplar_task_ids=ids)


def _shot_spans(fmt: PromptFormat) -> list[tuple[int, int]]:
    """Where each shot of a text format starts and ends (its trailing blank lines included)."""
    shots = fmt.template.rsplit("Q: {question}", 1)[0] if "Q: {question}" in fmt.template else ""
    return [match.span() for match in _EXEMPLAR.finditer(shots)]


def shipped_formats() -> list[str]:
    return sorted(p.name.removesuffix(".toml").replace("_", "-")
                  for p in resources.files("ekt_curate.prompts").iterdir() if p.name.endswith(".toml"))


def load_prompt_format(name_or_path: str) -> PromptFormat:
    shipped = resources.files("ekt_curate.prompts") / f"{name_or_path.replace('-', '_')}.toml"
    if "/" not in name_or_path and not name_or_path.endswith((".txt", ".toml")) and shipped.is_file():
        spec = tomllib.loads(shipped.read_text(encoding="utf-8"))
        if spec.get("chat"):
            return _chat_format(spec)
        return PromptFormat(name=spec["name"], template=spec["template"], stop=tuple(spec["stop"]),
                            answer=spec["answer"], exemplar_task_ids=tuple(spec.get("exemplar_task_ids", ())),
                            strip=spec.get("strip", True))
    path = Path(name_or_path)
    if not path.is_file():
        raise InputError(f"unknown prompt {name_or_path!r}: use {', '.join(shipped_formats())} or a template file")
    return PromptFormat(name=path.name, template=load_template(path))


def _chat_format(spec: dict) -> PromptFormat:
    if "exemplars_from" not in spec:  # zero-shot (code-chat): the system message says it all
        return PromptFormat(name=spec["name"], template="", stop=tuple(spec.get("stop", ())),
                            answer=spec.get("answer", "auto"), chat=True, system=spec["system"], user=spec["user"])
    base = load_prompt_format(spec["exemplars_from"])
    turns = tuple((spec["user"].replace("{question}", question), spec["assistant"].replace("{program}", program))
                  for question, program in exemplars(base))
    # No stop sequences: a chat reply ends with the end of its turn.
    return PromptFormat(name=spec["name"], template="", stop=tuple(spec.get("stop", ())), answer=base.answer,
                        exemplar_task_ids=base.exemplar_task_ids, chat=True, system=spec["system"],
                        turns=turns, user=spec["user"])


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
