"""Problem sources: the packaged GSM8K splits, or a user's JSONL file.

Task ids are ``gsm8k/<split>/<line index>``. The gold answer of a GSM8K problem
is the number after ``####`` with thousands separators removed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ekt_curate.errors import InputError

GSM8K_SPLITS = ("train", "test")


@dataclass(frozen=True)
class Problem:
    task_id: str
    question: str
    gold: str
    solution: str = ""  # the reference solution text, where the source has one


def gsm8k_gold(answer_text: str) -> str:
    """'... #### 1,234' -> '1234'."""
    if "####" not in answer_text:
        raise ValueError("GSM8K answer has no '####' line")
    return answer_text.rsplit("####", 1)[1].strip().replace(",", "")


def gsm8k_path(split: str) -> Path:
    if split not in GSM8K_SPLITS:
        raise InputError(f"unknown GSM8K split {split!r}: use gsm8k:train or gsm8k:test")
    return Path(str(resources.files("ekt_curate") / "data" / "gsm8k" / f"{split}.jsonl"))


def iter_problems(source: str) -> Iterator[Problem]:
    """``gsm8k:train``, ``gsm8k:test``, or a JSONL file with task_id, question and gold
    (an ``answer`` in GSM8K's ``####`` format is accepted in place of ``gold``)."""
    if source.startswith("gsm8k:"):
        split = source.split(":", 1)[1]
        with gsm8k_path(split).open(encoding="utf-8") as handle:
            for index, line in enumerate(handle):
                row = json.loads(line)
                yield Problem(f"gsm8k/{split}/{index}", row["question"], gsm8k_gold(row["answer"]), row["answer"])
        return
    path = Path(source)
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: problems file not found") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read problems file: {exc.strerror}") from None
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                gold = row["gold"] if "gold" in row else gsm8k_gold(row["answer"])
                yield Problem(str(row["task_id"]), str(row.get("question", "")), str(gold), row.get("answer", ""))
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(f"{path}:{number}: not a problem record ({exc})") from None


def load_gold(source: str) -> dict[str, str]:
    """task_id -> gold, for looking up samples that carry no gold of their own."""
    return {problem.task_id: problem.gold for problem in iter_problems(source)}
