"""Field names and record shapes: reading a task id, a program, a gold and a question from the
records other tools write.

Shapes understood for the program (the first present wins):
- a string under the completion field (default ``completion``; ``code`` too);
- a chat ``messages`` list: the last assistant turn (content as text or as a list of text parts);
- an OpenAI completions, chat-completions or Responses API response object, under ``response`` or
  as the record;
- an OpenAI Batch API output line (``custom_id``, ``response.body``, ``error``): ``custom_id`` is the
  task id, a failed request is rejected with its error.
Integer ids are ids (``7`` -> ``"7"``); a gold in GSM8K's ``... #### 72`` form is ``72``.
Each extractor raises :class:`ShapeError` whose text is the reason a line is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ShapeError(ValueError):
    """This record has no usable value; the message starts with the reject reason."""


@dataclass(frozen=True)
class FieldNames:
    id: str = "task_id"
    completion: str = "completion"
    gold: str = "gold"
    question: str = "question"


DEFAULT_FIELDS = FieldNames()


def gsm8k_gold(answer_text: str) -> str:
    """'... #### 1,234' -> '1234'."""
    if "####" not in answer_text:
        raise ValueError("GSM8K answer has no '####' line")
    return answer_text.rsplit("####", 1)[1].strip().replace(",", "")


def task_id_of(record: dict[str, Any], fields: FieldNames = DEFAULT_FIELDS) -> str:
    value = record.get(fields.id)
    if value is None and fields.id == DEFAULT_FIELDS.id:
        value = record.get("custom_id")  # OpenAI Batch API: the id the user gave the request
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value:
        raise ShapeError(f"no task_id: a non-empty string or integer '{fields.id}' is required (--id-field NAME)")
    return value


def program_of(record: dict[str, Any], fields: FieldNames = DEFAULT_FIELDS) -> str:
    key = _program_key(record, fields)
    if key == "":  # the record is itself a response object
        return text_of(record, "choices")
    if key is not None:
        return text_of(record[key], key)
    if fields.completion != DEFAULT_FIELDS.completion:  # a field the user named: only it is looked for
        raise ShapeError(f"no program: a string, messages list or OpenAI response under '{fields.completion}' "
                         f"(--completion-field) is required")
    raise ShapeError(f"no program: a string '{fields.completion}' (or 'code', 'messages', an OpenAI "
                     f"response) is required (--completion-field NAME)")


def split_choices(record: dict[str, Any], fields: FieldNames = DEFAULT_FIELDS) -> list[tuple[int, dict[str, Any]]] | None:
    """A response with several choices (a request with ``n`` > 1) as (choice index, record) per
    choice, each record a copy whose response holds only that choice; None for anything else.
    The index is the choices' own ``index`` when they are distinct integers, else their positions
    (resume and merge tell choices apart by it). Only the
    dicts on the way to ``choices`` are copied: the rest of the record is shared."""
    key = _program_key(record, fields)
    response = record if key == "" else record.get(key) if key else None
    if not isinstance(response, dict):
        return None
    body = "body" if isinstance(response.get("body"), dict) else None  # a Batch API line's response
    holder = response[body] if body else response
    choices = holder.get("choices")
    if not isinstance(choices, list) or len(choices) < 2:
        return None
    indices = [choice.get("index") if isinstance(choice, dict) else None for choice in choices]
    if not all(type(index) is int and index >= 0 for index in indices) or len(set(indices)) < len(indices):
        indices = list(range(len(choices)))  # missing or repeated: a choice is known by its position
    parts = []
    for index, choice in zip(indices, choices):
        new_holder = {**holder, "choices": [choice]}
        new_response = {**response, body: new_holder} if body else new_holder
        parts.append((index, new_response if key == "" else {**record, key: new_response}))
    return parts


def _program_key(record: dict[str, Any], fields: FieldNames) -> str | None:
    """Where program_of reads the program: a key, "" for the record itself, None for nowhere."""
    candidates = [fields.completion]
    if fields.completion == DEFAULT_FIELDS.completion:
        candidates += ["code", "messages", "response"]
    for key in candidates:
        if record.get(key) is not None:
            return key
    if "choices" in record or (record.get("object") == "response" and isinstance(record.get("output"), list)):
        return ""  # the record is itself a response object
    return None


def text_of(value: Any, key: str) -> str:
    """The text of a value found under ``key``: a string, a messages list or a response object."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return _last_assistant(value, key)
    if isinstance(value, dict):
        return _response_text(value, key)
    raise ShapeError(f"no program: '{key}' is {type(value).__name__}, not text")


def _last_assistant(messages: list[Any], key: str) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "assistant":
            return _content(message.get("content"), key)
    raise ShapeError(f"no program: '{key}' has no assistant turn")


def _content(content: Any, key: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
        parts = [part.get("text") for part in content if isinstance(part, dict) and part.get("type") == "text"]
        if parts and all(isinstance(part, str) for part in parts):
            return "".join(parts)
    raise ShapeError(f"no program: the assistant turn in '{key}' has no text content")


def _response_text(response: dict[str, Any], key: str) -> str:
    if "body" in response or "status_code" in response:  # a Batch API line's response
        status = response.get("status_code")
        if status not in (None, 200):
            raise ShapeError(f"request failed: the batch response has status {status}")
        response = response.get("body") or {}
    if response.get("error"):
        raise ShapeError(f"request failed: {str(response['error'])[:200]}")
    if isinstance(response.get("output"), list) and "choices" not in response:
        return _responses_api_text(response["output"], key)
    choices = response.get("choices")
    if not isinstance(choices, list) or not choices:
        raise ShapeError(f"no program: '{key}' is not a completion response (no choices)")
    if len(choices) > 1:
        raise ShapeError(f"several choices: '{key}' holds {len(choices)} completions (verify splits them "
                         f"into one sample each; here give one per line)")
    choice = choices[0] if isinstance(choices[0], dict) else {}
    if isinstance(choice.get("text"), str):
        return choice["text"]
    message = choice.get("message")
    if isinstance(message, dict):
        return _content(message.get("content"), key)
    raise ShapeError(f"no program: the choice in '{key}' has no text")


def _responses_api_text(output: list[Any], key: str) -> str:
    """The Responses API's ``output``: the text parts of its last assistant message (a reasoning
    item or a tool call before it is not the program)."""
    for item in reversed(output):
        if isinstance(item, dict) and item.get("type") == "message" and item.get("role", "assistant") == "assistant":
            parts = [part.get("text") for part in item.get("content") or []
                     if isinstance(part, dict) and part.get("type") == "output_text"]
            if parts and all(isinstance(part, str) for part in parts):
                return "".join(parts)
    raise ShapeError(f"no program: the Responses API output in '{key}' has no assistant message with text")


MAX_KEYS_SHOWN = 12


def record_keys(record: dict[str, Any]) -> str:
    """The record's own keys, for a reject that says which field is missing: the user maps them."""
    keys = list(record)
    shown = ", ".join(repr(key)[:40] for key in keys[:MAX_KEYS_SHOWN])
    more = f" and {len(keys) - MAX_KEYS_SHOWN} more" if len(keys) > MAX_KEYS_SHOWN else ""
    return f"the record's keys: {shown or 'none'}{more}"


def batch_error(record: dict[str, Any]) -> str | None:
    """The error of a failed Batch API line (``error`` set, no response), else None."""
    error = record.get("error")
    if error and "custom_id" in record:
        message = error.get("message") if isinstance(error, dict) else error
        return f"request failed: {str(message)[:200]}"
    return None


def gold_of(record: dict[str, Any], fields: FieldNames = DEFAULT_FIELDS) -> Any:
    """The record's own gold (None when absent); GSM8K's '#### 72' form becomes '72'."""
    value = record.get(fields.gold)
    if (value is None or value == "") and fields.gold == DEFAULT_FIELDS.gold:
        answer = record.get("answer")
        value = answer if isinstance(answer, str) and "####" in answer else None
    if isinstance(value, str) and "####" in value:
        return gsm8k_gold(value)
    return None if value == "" else value


def question_of(record: dict[str, Any], fields: FieldNames = DEFAULT_FIELDS) -> str | None:
    value = record.get(fields.question)
    if value is None and fields.question == DEFAULT_FIELDS.question:
        value = record.get("problem")  # MATH and most competition sets
    return value if isinstance(value, str) and value else None
