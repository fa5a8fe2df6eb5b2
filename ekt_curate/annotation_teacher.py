"""A deterministic stand-in teacher built from GSM8K's calculator annotations.

GSM8K solutions carry every computation as ``<<48/2=24>>``. Turning those steps
into a program (later steps refer to earlier results by name) gives programs of
the shape a few-shot teacher writes, in both prompt styles (``def solution()``
and ``answer = ...``). A share of samples is corrupted the way real teacher
samples fail (a wrong constant or operator, a misspelled name, unbalanced
parentheses, no return, an endless loop, prose around a fenced block), so that
verify, dedup and stats have realistic work. It needs no model and no network,
which is what ``make demo``, the benchmarks and the tests need; real sampling
is ``ekt-curate sample``.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterator

from ekt_curate.problems import Problem

_ANNOTATION = re.compile(r"<<([^=<>]+)=([^<>]*)>>")
_SAFE = re.compile(r"^[0-9.+\-*/() ]+$")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")

# (kind, weight): how often each kind of sample is drawn.
SAMPLE_KINDS = (
    ("correct", 58), ("correct_fenced", 8), ("correct_printed", 6), ("wrong_constant", 9),
    ("wrong_operator", 5), ("name_error", 4), ("syntax_error", 3), ("no_return", 3),
    ("zero_division", 2), ("endless_loop", 2),
)


def steps_of(problem: Problem) -> list[str]:
    """The annotation expressions, cleaned to plain arithmetic; [] if there are none usable."""
    steps = []
    for expression, _value in _ANNOTATION.findall(problem.solution):
        expression = expression.replace("x", "*").replace("^", "**").replace(",", "").strip()
        if not _SAFE.match(expression) or "//" in expression:
            return []
        steps.append(re.sub(r"\s+", " ", expression))
    return steps


def _named(steps: list[str]) -> list[tuple[str, str]]:
    """Name each step and refer to earlier results by name where the number matches."""
    named: list[tuple[str, str]] = []
    values: dict[str, str] = {}
    for index, expression in enumerate(steps, 1):
        def use_name(match: re.Match[str]) -> str:
            return values.get(match.group(0), match.group(0))

        rewritten = _NUMBER.sub(use_name, expression)
        name = f"step{index}"
        named.append((name, rewritten))
        try:
            value = eval(compile(expression, "<annotation>", "eval"), {"__builtins__": {}})  # noqa: S307 - digits and operators only (_SAFE)
        except (ArithmeticError, SyntaxError, TypeError):
            continue
        text = str(int(value)) if float(value).is_integer() else repr(value)
        values.setdefault(text, name)
    return named


def program_for(problem: Problem, kind: str, style: str) -> str | None:
    steps = steps_of(problem)
    if not steps:
        return None
    named = _named(steps)
    last = named[-1][0]
    body = [f"{name} = {expression}" for name, expression in named]
    if kind == "wrong_constant":
        body[0] = _NUMBER.sub(lambda m: str(int(float(m.group(0))) + 1), body[0], count=1)
    elif kind == "wrong_operator":
        body[-1] = body[-1].replace("+", "-", 1) if "+" in body[-1] else body[-1].replace("*", "+", 1)
    elif kind == "name_error":
        body[-1] = body[-1] + " + stepp0"
    elif kind == "syntax_error":
        body[-1] = body[-1].replace(" = ", " = (", 1)
    elif kind == "zero_division":
        body[-1] = body[-1] + f" / ({named[0][0]} - {named[0][0]})"
    elif kind == "endless_loop":
        body.insert(0, "while True:\n        pass" if style == "function" else "while True:\n    pass")
    if style == "function":
        summary = " ".join(problem.question.split())[:80]
        lines = ["def solution():", f"    # {summary}"]
        lines += [f"    {line}" for line in body]
        if kind != "no_return":
            lines.append(f"    return {last}")
        code = "\n".join(lines) + "\n"
    else:
        code = "\n".join(body) + ("\n" if kind == "no_return" else f"\nanswer = {last}\n")
    if kind == "correct_printed":
        code = "\n".join(body) + f"\nprint({last})\n"
    if kind == "correct_fenced":
        code = f"Let's compute it step by step.\n```python\n{code}```\nThe answer is {problem.gold}."
    return code


def samples(problems: list[Problem], n: int, seed: int = 0, kinds: tuple[tuple[str, int], ...] = SAMPLE_KINDS,
            ) -> Iterator[dict[str, object]]:
    """n samples per problem (problems without usable annotations are skipped), deterministic."""
    names = [kind for kind, _ in kinds]
    weights = [weight for _, weight in kinds]
    for problem in problems:
        task_seed = int.from_bytes(hashlib.sha256(f"{seed}/{problem.task_id}".encode()).digest()[:8], "big")
        rng = random.Random(task_seed)
        if not steps_of(problem):
            continue
        for index in range(n):
            kind = rng.choices(names, weights)[0]
            style = "function" if rng.random() < 0.6 else "variable"
            yield {
                "task_id": problem.task_id,
                "question": problem.question,
                "gold": problem.gold,
                "completion": program_for(problem, kind, style),
                "sample_index": index,
                "meta": {"teacher": "gsm8k-annotations", "kind": kind, "style": style, "seed": seed},
            }
