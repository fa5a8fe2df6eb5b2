"""Attach the gold answer: the record's own (``gold``, or the ``--gold-field``; GSM8K's
``... #### 72`` form is 72), else the problems source's, by task id, read as every judge
reads golds (ekt_curate.judge.read_gold): a line whose gold is unusable is rejected here.
A code sample carries tests instead (HumanEval, MBPP, APPS, open-r1, verl shapes: the record's
own, else its problem's): those are attached, and unusable ones reject the line the same way."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ekt_curate.fields import DEFAULT_FIELDS, FieldNames, gold_of, record_keys
from ekt_curate.judge import read_gold
from ekt_curate.judge.code_tests import CodeTestsError, has_tests, read_tests
from ekt_curate.steps.base import Item, StepStats


class AttachGold:
    def __init__(self, gold_by_task: dict[str, str] | None, source: str | None,
                 fields: FieldNames = DEFAULT_FIELDS, tests_by_task: dict[str, dict] | None = None):
        self.gold_by_task = gold_by_task or {}
        self.tests_by_task = tests_by_task or {}  # a code problem set's test fields, by task id
        self.source = source
        self.fields = fields
        self.stats = StepStats("gold")

    def __call__(self, items: Iterable[Item]) -> Iterator[Item]:
        for item in items:
            before = item.reject is not None
            yield self.stats.count(item if before else self._attach(item), before)

    def _attach(self, item: Item) -> Item:
        assert item.record is not None
        record = item.record if has_tests(item.record) else self.tests_by_task.get(item.task_id)
        if record is not None:
            try:
                item.tests = read_tests(record)
            except CodeTestsError as exc:
                return item.rejected(f"{exc}".replace("tests: ", f"tests: task {item.task_id!r}: ", 1))
            return item
        try:
            gold = gold_of(item.record, self.fields)
        except ValueError as exc:
            return item.rejected(f"no gold: {exc}")
        if gold is not None and "gold" not in item.record:
            item.record["gold"] = gold  # read from another field or form: later stages read 'gold'
        if gold is None:
            gold = self.gold_by_task.get(item.task_id)
            if gold is not None:
                item.record.setdefault("gold", gold)  # the output shows what each verdict was judged against
        if gold is None:
            where = f"not in the record nor in {self.source}{self._example_ids()}" if self.source else \
                f"not in the record ('{self.fields.gold}', --gold-field NAME), and no --problems given; " \
                f"{record_keys(item.record)}"
            if self.fields.gold == "gold" and "answer" in item.record:
                where += "; its 'answer' field is not in GSM8K's '... #### N' form: --gold-field answer reads it"
            return item.rejected(f"no gold: task {item.task_id!r} has no gold answer ({where})")
        read = read_gold(gold, self.fields.gold)
        if not read.usable:  # of the wrong kind, empty, or past the bounds: the line is rejected here
            return item.rejected(str(read.problem).replace("no gold: ", f"no gold: task {item.task_id!r}: ", 1))
        item.gold = read
        return item

    def _example_ids(self) -> str:
        """The problems' own ids, so a mismatch (ids derived from rows, another --id-field) shows."""
        examples = [repr(task_id) for _, task_id in zip(range(2), self.gold_by_task)]
        return f", whose ids are like {', '.join(examples)}" if examples else ""
