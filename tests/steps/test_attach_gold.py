"""The gold step: a gold of the wrong kind or an empty one rejects the line, by name."""

import pytest

from ekt_curate.steps.attach_gold import AttachGold
from ekt_curate.steps.base import Item


def attach(record, gold_by_task=None):
    item = Item(1, b"{}", record=record, task_id="t")
    return next(AttachGold(gold_by_task, "problems.jsonl" if gold_by_task else None)(iter([item])))


@pytest.mark.parametrize(("gold", "reason"), [
    ("####", "no gold: task 't': 'gold' is empty"),      # GSM8K's form with nothing after it
    (" ", "no gold: task 't': 'gold' is empty"),
    (True, "no gold: task 't': 'gold' must be a number or text, not bool"),   # true is not 1
    ([72], "no gold: task 't': 'gold' must be a number or text, not list"),
    ("9" * 5000, "bad gold: "),
])
def test_an_unusable_gold_rejects_the_line(gold, reason):
    reject = attach({"gold": gold}).reject
    assert reject == reason or (reason.endswith(": ") and reject.startswith(reason))


def test_an_empty_gold_from_the_problems_is_rejected_too():
    assert attach({}, {"t": "  "}).reject == "no gold: task 't': 'gold' is empty"
    assert attach({}, {"t": "72"}).gold.value == "72" and attach({"gold": "#### 72"}).gold.value == "72"


def test_a_task_missing_from_the_problems_names_the_ids_they_have():
    reason = attach({}, {"probs/0": "1", "probs/1": "2", "probs/2": "3"}).reject
    assert reason == ("no gold: task 't' has no gold answer (not in the record nor in problems.jsonl, "
                      "whose ids are like 'probs/0', 'probs/1')")


def test_a_gold_from_the_problems_is_written_into_the_record():
    item = attach({"task_id": "t"}, {"t": "72"})
    assert item.gold.value == "72" and item.record["gold"] == "72"


def test_an_answer_field_that_is_not_gsm8k_form_gets_a_hint():
    reason = attach({"answer": 72}).reject
    assert "no gold" in reason and "--gold-field answer" in reason
