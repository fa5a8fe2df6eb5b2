"""One published row from one passing record: the columns, their schema, and the two values a
record may hold in another form than the row shows them: the gold and the question.

``gold`` is the gold as the verdict compared it, read by the one judging place
(ekt_curate.judge.read_gold, and latex_number as ``--checker math-verify`` reads a LaTeX gold):
GSM8K's ``"... #### 72"`` is ``72``, ``"$10"`` is ``10``, ``"6.70"`` stays ``6.70`` (its written
decimals are its precision), a JSON integer stays that integer exactly, ``1/3`` stays a fraction,
a text gold is its text. ``gold_raw`` is the gold as the record (or the problems file) gave it.

``question`` is the record's ``question`` (or ``problem``), else the problems source's by task id,
else the last user turn before the assistant reply in the record's chat ``messages`` (content as
text or a list of text parts), the way verify reads the program from the assistant turn.
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

from ekt_curate.fields import question_of
from ekt_curate.prompts import render_student_prompt
from ekt_curate.sandbox.program_text import extract_program


def published_gold(raw: object, answer: object = None) -> str | None:
    """The gold the verdict was judged against, as text; None where it is no usable gold.
    ``answer`` is the verdict's: a LaTeX gold met by a number was read as a number (math-verify's
    latex_number), so it is published as that number; met by a text, it stays its text."""
    from ekt_curate.judge import read_gold
    from ekt_curate.judgement.latex_number import latex_number

    gold = read_gold(raw)
    value = gold.answer
    if value is None:
        return None
    if value.text is not None and isinstance(answer, (int, float)) and not isinstance(answer, bool):
        value = latex_number(str(gold.value)) or value
    if value.number is not None:
        return _number_text(value.number, value.decimals)
    if value.flag is not None:
        return str(value.flag)
    return value.text


def _number_text(number: Fraction, decimals: int | None) -> str:
    """Exact: an integer in digits, a terminating decimal written out (with at least the decimals
    the gold was written with: 6.70 is 6.70), any other fraction as p/q."""
    if number.denominator == 1 and not (decimals and decimals > 0):
        return str(number.numerator)
    rest, twos, fives = number.denominator, 0, 0
    while rest % 2 == 0:
        rest, twos = rest // 2, twos + 1
    while rest % 5 == 0:
        rest, fives = rest // 5, fives + 1
    if rest != 1:
        return f"{number.numerator}/{number.denominator}"
    places = max(twos, fives, decimals or 0)
    digits = str(abs(number.numerator) * 10 ** places // number.denominator).rjust(places + 1, "0")
    return f"{'-' if number < 0 else ''}{digits[:-places]}.{digits[-places:]}"


def raw_gold(raw: object) -> str | None:
    """The gold as given, as text: a string as it is, anything else as JSON (72, 6.7)."""
    if raw is None:
        return None
    return raw if isinstance(raw, str) else json.dumps(raw)


def question_from_messages(record: dict[str, Any]) -> str | None:
    """The last user turn before the (last) assistant reply in ``messages``; None without one."""
    messages = record.get("messages")
    if not isinstance(messages, list):
        return None
    roles = [message.get("role") if isinstance(message, dict) else None for message in messages]
    end = len(roles) - roles[::-1].index("assistant") - 1 if "assistant" in roles else len(roles)
    for message, role in zip(reversed(messages[:end]), reversed(roles[:end])):
        if role == "user":
            text = _content_text(message.get("content"))
            return text if text and text.strip() else None
    return None


def _content_text(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # [{"type": "text", "text": ...}, ...], as fields.py reads an assistant turn
        parts = [part.get("text") for part in content if isinstance(part, dict) and part.get("type") == "text"]
        if parts and all(isinstance(part, str) for part in parts):
            return "".join(parts)
    return None


def row_of(record: dict[str, Any], template: str, questions: dict[str, str] | None,
           golds: dict[str, str] | None = None, messages: bool = False) -> dict[str, Any]:
    task_id = str(record["task_id"])
    gold = record.get("gold")
    if gold is None and golds:
        gold = golds.get(task_id)
    question = question_of(record) or (questions or {}).get(task_id) or question_from_messages(record)
    if not question:
        raise ValueError(f"task {task_id!r} has no question, nor a user turn in 'messages' "
                         f"(add --problems to look it up)")
    verdict = record.get("verdict") or {}
    dedup = record.get("dedup") or {}
    program = record.get("completion", record.get("code"))
    if not isinstance(program, str):
        raise ValueError("no program in 'completion' or 'code'")
    answer = verdict.get("answer")
    prompt, completion = render_student_prompt(template, question), extract_program(program).strip("\n") + "\n"
    row = {
        "prompt": prompt,
        "completion": completion,
        "task_id": task_id,
        "question": question,
        "gold": published_gold(gold, answer),
        "gold_raw": raw_gold(gold),
        "answer": None if answer is None else str(answer),
        "verdict_status": verdict.get("status"),
        "verdict_passed": verdict.get("passed"),
        "verdict_cpu_ms": verdict.get("cpu_ms"),
        "verdict_wall_ms": verdict.get("wall_ms"),
        "dedup_cluster_size": dedup.get("cluster_size"),
        "dedup_canonical_hash": dedup.get("canonical_hash"),
        "sample_index": record.get("sample_index"),
    }
    if messages:  # the same pair as one chat, for students trained on their chat template
        row["messages"] = [{"role": "user", "content": prompt}, {"role": "assistant", "content": completion}]
    return row


def schema_of(messages: bool = False) -> Any:
    import pyarrow as pa

    chat = [("messages", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())])))] if messages else []
    return pa.schema([("prompt", pa.string()), ("completion", pa.string()), ("task_id", pa.string()),
                      ("question", pa.string()), ("gold", pa.string()), ("gold_raw", pa.string()),
                      ("answer", pa.string()), ("verdict_status", pa.string()), ("verdict_passed", pa.bool_()),
                      ("verdict_cpu_ms", pa.float64()), ("verdict_wall_ms", pa.float64()),
                      ("dedup_cluster_size", pa.int64()), ("dedup_canonical_hash", pa.string()),
                      ("sample_index", pa.int64()), *chat])


def model_of(record: dict[str, Any]) -> str | None:
    """The teacher a record names: its sample ``meta`` (``model``, or the annotation teacher's
    ``teacher``), a ``model`` key, or an OpenAI response's ``model`` (plain, or a Batch API line's body)."""
    meta = record.get("meta") if isinstance(record.get("meta"), dict) else {}
    response = record.get("response") if isinstance(record.get("response"), dict) else {}
    body = response.get("body") if isinstance(response.get("body"), dict) else {}
    for value in (meta.get("model"), record.get("model"), response.get("model"), body.get("model"), meta.get("teacher")):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None
