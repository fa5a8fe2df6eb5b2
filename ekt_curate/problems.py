"""Problem sources: the packaged GSM8K splits, or any source ``ekt_curate.sources`` reads (a
JSON Lines, parquet or CSV file, a dataset folder, ``hf:ORG/NAME[:CONFIG[:SPLIT]]``).

Task ids are ``gsm8k/<split>/<line index>`` for the packaged GSM8K. Elsewhere the id field
(``--id-field``, default ``task_id``; integers are ids) gives them; a source without ids (the
raw GSM8K JSONL, ``question`` and ``answer`` only) gets stable ids from the source's name and
the 0-based line or row index, ``<file stem>/<index>`` (``hf:`` sources: ``<ORG/NAME:CONFIG:SPLIT>/<index>``),
the same in ``sample``, ``verify --problems`` and ``publish``. The gold is the gold field, else
the number after ``####`` in ``answer``. A code problem set (``humaneval``, or records carrying
tests: ekt_curate.code_problems) has no gold: its problems carry their test fields instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ekt_curate.errors import InputError
from ekt_curate.fields import DEFAULT_FIELDS, FieldNames, ShapeError, gold_of, gsm8k_gold, question_of, task_id_of

__all__ = ["GSM8K_SPLITS", "Problem", "gsm8k_gold", "gsm8k_path", "iter_problems", "load_gold"]

GSM8K_SPLITS = ("train", "test")


@dataclass(frozen=True)
class Problem:
    task_id: str
    question: str
    gold: str
    solution: str = ""  # the reference solution text, where the source has one
    tests: dict | None = None  # a code problem's test fields (and HumanEval's prompt), instead of a gold


def gsm8k_path(split: str) -> Path:
    if split not in GSM8K_SPLITS:
        raise InputError(f"unknown GSM8K split {split!r}: use gsm8k:train or gsm8k:test")
    return Path(str(resources.files("ekt_curate") / "data" / "gsm8k" / f"{split}.jsonl"))


def iter_problems(source: str, fields: FieldNames = DEFAULT_FIELDS) -> Iterator[Problem]:
    """``gsm8k:train``, ``gsm8k:test``, a code set, or any source with a question and a gold per record."""
    from ekt_curate.code_problems import code_question, is_code_source, iter_code_problems, test_fields

    if is_code_source(source, fields):
        for task_id, record in iter_code_problems(source, fields):
            yield Problem(task_id, code_question(record, fields), "", tests=test_fields(record))
        return
    if source.startswith("gsm8k:"):
        split = source.split(":", 1)[1]
        with gsm8k_path(split).open(encoding="utf-8") as handle:
            for index, line in enumerate(handle):
                row = json.loads(line)
                yield Problem(f"gsm8k/{split}/{index}", row["question"], gsm8k_gold(row["answer"]), row["answer"])
        return
    from ekt_curate.sources import iter_raw, parse_source

    try:
        parsed = parse_source(source)
    except InputError as exc:
        raise InputError(f"problems: {exc}") from None
    prefix = parsed.label if parsed.kind == "hub" else parsed.stem
    for position, raw in iter_raw(parsed):
        try:
            row = json.loads(raw)
            if not isinstance(row, dict):
                raise ShapeError(f"a JSON object is required, not {type(row).__name__}")
            has_id = row.get(fields.id) is not None or (fields.id == "task_id" and "custom_id" in row)
            task_id = task_id_of(row, fields) if has_id else f"{prefix}/{position - 1}"
            gold = gold_of(row, fields)
            if gold is None:
                raise ShapeError(f"no gold: a '{fields.gold}' (or a GSM8K 'answer' with '####') is required")
            answer = row.get("answer")
            yield Problem(task_id, question_of(row, fields) or "", str(gold), answer if isinstance(answer, str) else "")
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{parsed.label}:{position}: not a problem record ({exc})") from None


def load_gold(source: str, fields: FieldNames = DEFAULT_FIELDS) -> dict[str, str]:
    """task_id -> gold, for looking up samples that carry no gold of their own. An id given twice
    with two golds is an error (which one a sample is judged against would be an accident); the
    same gold twice is harmless."""
    golds: dict[str, str] = {}
    rows: dict[str, int] = {}
    for row, problem in enumerate(iter_problems(source, fields), 1):
        earlier = golds.setdefault(problem.task_id, problem.gold)
        if earlier != problem.gold:
            raise InputError(f"problems: {source}: task {problem.task_id!r} has two golds, {earlier!r} "
                             f"(record {rows[problem.task_id]}) and {problem.gold!r} (record {row})")
        rows.setdefault(problem.task_id, row)
    return golds
