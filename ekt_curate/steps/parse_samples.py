"""Parse sample lines: a JSON object with a task id and a program, under the names and in the
shapes ``ekt_curate.fields`` reads (``completion``/``code``, chat messages, OpenAI responses).

A response with several choices becomes one item per choice, each with the line's number and
its ``choice``; they follow each other, in choice order. An empty completion is a sample (the
judge's ``no_program`` failure), not a rejected line: every sample a model produced counts."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

from ekt_curate.fields import (DEFAULT_FIELDS, FieldNames, ShapeError, batch_error, gold_of, program_of,
                               question_of, record_keys, split_choices, task_id_of)
from ekt_curate.judge.code_tests import has_tests
from ekt_curate.steps.base import Item, StepStats


# Only a line with such an escape can hold a lone surrogate (raw bytes were checked as UTF-8).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _has_lone_surrogate(record: object) -> bool:
    """A surrogate pair decodes to one character; a lone half cannot be encoded as UTF-8."""
    try:
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class ParseSamples:
    def __init__(self, fields: FieldNames = DEFAULT_FIELDS, gold_in_record: bool = False) -> None:
        self.fields = fields
        # Without --problems the gold must be in the record: a record rejected for its id or
        # program says so too, so every wrong field name is found in one run, not one per run.
        self.gold_in_record = gold_in_record
        self.stats = StepStats("parse")

    def __call__(self, items: Iterable[Item]) -> Iterator[Item]:
        for item in items:
            if item.reject is not None:
                yield self.stats.count(item, True)
                continue
            for out in self._parse_guarded(item):  # one item, or one per choice of the response
                yield self.stats.count(out, False)

    def _parse_guarded(self, item: Item) -> list[Item]:
        # A line is untrusted input: whatever it makes the parser raise is that line's reject,
        # never the end of the run (and never the end of a --resume, which would meet it again).
        try:
            parsed = self._parse(item)
            return parsed if isinstance(parsed, list) else [parsed]
        except Exception as exc:  # noqa: BLE001 - counted and reported as the line's reason
            item.record, item.task_id, item.program = None, "", ""
            return [item.rejected(f"unreadable line: {type(exc).__name__}: {str(exc)[:200]}")]

    def _parse(self, item: Item) -> Item | list[Item]:
        try:
            text = item.raw.decode("utf-8")
        except UnicodeDecodeError:
            return item.rejected("not UTF-8")
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            return item.rejected(f"not JSON: {exc.msg} at column {exc.colno}")
        except RecursionError:
            return item.rejected("not JSON: nested too deeply (the parser stops near 1,000 levels)")
        except ValueError as exc:  # an integer beyond Python's 4,300-digit conversion limit
            return item.rejected(f"not JSON: {str(exc).split(';')[0][:200]}")
        if _SURROGATE_ESCAPE.search(item.raw) and _has_lone_surrogate(record):
            return item.rejected("not valid Unicode: a lone surrogate escape (\\ud800-\\udfff) in a string")
        if not isinstance(record, dict):
            return item.rejected(f"not a JSON object: {type(record).__name__}")
        item.record = record
        failed = batch_error(record)
        if failed:
            return item.rejected(failed)
        parts = split_choices(record, self.fields)
        if parts:  # n > 1: one sample per choice, in choice order
            return [self._fields(Item(item.line, item.raw, record=part, choice=index)) for index, part in parts]
        return self._fields(item)

    def _fields(self, item: Item) -> Item:
        """Task id, program and the canonical keys of a parsed record (one choice of it, if split)."""
        record = item.record
        assert record is not None
        missing, values = [], []
        for read in (task_id_of, program_of):
            try:
                values.append(read(record, self.fields))
            except ShapeError as exc:
                missing.append(str(exc))
        if missing:
            return item.rejected(self._all_missing(record, missing))
        task_id, program = values
        # Later stages (dedup, stats, publish) read the canonical keys: add them where the
        # record keeps its id or program under another name or shape; nothing is overwritten.
        record.setdefault("task_id", task_id)
        if "completion" not in record and "code" not in record:
            record["completion"] = program
        question = question_of(record, self.fields)
        if question is not None:
            record.setdefault("question", question)
        item.task_id, item.program = task_id, program
        return item

    def _all_missing(self, record: dict, missing: list[str]) -> str:
        """Every field this record lacks, its own keys, and the flags that would map them."""
        if self.gold_in_record and not has_tests(record):
            try:
                gold = gold_of(record, self.fields)
            except ValueError:
                gold = "unreadable"  # reported by the gold step once the id and program are found
            if gold is None:
                missing.append(f"no gold: '{self.fields.gold}' (--gold-field NAME, or --problems SOURCE)")
        return "; ".join(missing) + f"; {record_keys(record)}"
