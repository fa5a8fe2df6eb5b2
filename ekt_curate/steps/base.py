"""What flows between steps, and how each step accounts for it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Item:
    """One input line on its way through the steps."""

    line: int
    raw: bytes
    record: dict[str, Any] | None = None
    task_id: str = ""
    program: str = ""
    gold: object = None
    tests: Any = None             # a code sample's tests (ekt_curate.judge.code_tests), instead of a gold
    result: Any = None            # sandbox Result
    verdict: dict[str, Any] | None = None
    reject: str | None = None     # why this line is dropped; set by the step that drops it
    choice: int | None = None     # a response with several choices is one item per choice

    def rejected(self, reason: str) -> "Item":
        self.reject = reason
        return self


@dataclass
class StepStats:
    """Lines a step saw, and the ones it dropped itself, by reason (earlier drops pass through)."""

    name: str
    seen: int = 0
    dropped: Counter[str] = field(default_factory=Counter)

    def count(self, item: Item, rejected_before: bool) -> Item:
        self.seen += 1
        if item.reject and not rejected_before:
            self.dropped[item.reject.split(":")[0]] += 1
        return item
