"""Parse sample lines: JSON object, task_id, a program (``completion`` or ``code``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from ekt_curate.steps.base import Item, StepStats


class ParseSamples:
    def __init__(self) -> None:
        self.stats = StepStats("parse")

    def __call__(self, items: Iterable[Item]) -> Iterator[Item]:
        for item in items:
            before = item.reject is not None
            yield self.stats.count(self._parse(item) if not before else item, before)

    @staticmethod
    def _parse(item: Item) -> Item:
        try:
            text = item.raw.decode("utf-8")
        except UnicodeDecodeError:
            return item.rejected("not UTF-8")
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            return item.rejected(f"not JSON: {exc.msg} at column {exc.colno}")
        if not isinstance(record, dict):
            return item.rejected(f"not a JSON object: {type(record).__name__}")
        item.record = record
        task_id = record.get("task_id")
        if not isinstance(task_id, str) or not task_id:
            return item.rejected("no task_id: a non-empty string is required")
        program = record.get("completion", record.get("code"))
        if not isinstance(program, str):
            return item.rejected("no program: a string 'completion' (or 'code') is required")
        item.task_id, item.program = task_id, program
        return item
