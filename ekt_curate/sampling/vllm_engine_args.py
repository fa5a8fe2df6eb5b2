"""``--engine-arg KEY=VALUE`` typed by vLLM's own ``EngineArgs`` fields.

The CLI and the pipeline YAML give text; vLLM wants ints, floats, bools and dicts. Each key
must be a field of ``EngineArgs`` (so a misspelling is one line naming close ones, not an
engine that starts with the default), and its value is converted by the field's annotation.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from typing import Any

from ekt_curate.errors import EktError

_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


def parse_engine_args(items: tuple[str, ...] | list[str] | dict[str, Any]) -> dict[str, Any]:
    from vllm.engine.arg_utils import EngineArgs

    fields = {f.name: f for f in dataclasses.fields(EngineArgs)}
    pairs = list(items.items()) if isinstance(items, dict) else [_split(item) for item in items]
    parsed: dict[str, Any] = {}
    for key, value in pairs:
        key = key.strip().replace("-", "_")
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=3)
            raise EktError(f"--engine-arg {key}: not a vLLM engine argument"
                           + (f" (did you mean {', '.join(close)}?)" if close else ""))
        parsed[key] = value if not isinstance(value, str) else _convert(key, value, str(fields[key].type))
    return parsed


def _split(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise EktError(f"--engine-arg {item!r}: expected KEY=VALUE, e.g. max_model_len=4096")
    return key, value


def _convert(key: str, value: str, annotation: str) -> Any:
    text = value.strip()
    if text.lower() in ("none", "null") and "None" in annotation:
        return None
    try:
        if "bool" in annotation and text.lower() in _TRUE | _FALSE:
            return text.lower() in _TRUE
        if annotation.startswith(("dict", "list", "typing.Dict", "typing.List")) or text[:1] in "[{":
            return json.loads(text)
        if "int" in annotation and "float" not in annotation:
            return int(text)
        if "float" in annotation:
            return float(text)
        if "int" in annotation:
            return int(text)
    except ValueError:
        raise EktError(f"--engine-arg {key}={value}: not a value of type {annotation}") from None
    if "bool" in annotation and "str" not in annotation and "Literal" not in annotation:
        raise EktError(f"--engine-arg {key}={value}: expected true or false")
    return text
