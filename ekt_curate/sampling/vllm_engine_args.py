"""``--engine-arg KEY=VALUE`` typed by vLLM's own ``EngineArgs`` fields.

The CLI and the pipeline YAML give text; vLLM wants ints, floats, bools, literals and dicts. Each
key must be a field of ``EngineArgs`` (so a misspelling is one line naming close ones, not an
engine that starts with the default), and its value is validated against the field's annotation
by pydantic: first as JSON (``4096``, ``true``, ``{"image": 2}``), then as text (``float32`` for a
``Literal``, ``yes`` for a bool). An annotation pydantic cannot build a validator for (a
``torch.dtype``, a forward reference) takes the text, or the JSON where the text is JSON.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from typing import Any

from ekt_curate.errors import EktError


def parse_engine_args(items: tuple[str, ...] | list[str] | dict[str, Any]) -> dict[str, Any]:
    from vllm.engine.arg_utils import EngineArgs

    return convert_engine_args(items, EngineArgs)


def convert_engine_args(items: tuple[str, ...] | list[str] | dict[str, Any], engine_args: type) -> dict[str, Any]:
    """``items`` (KEY=VALUE texts, or a mapping from YAML) typed by the dataclass ``engine_args``."""
    fields = {f.name: f for f in dataclasses.fields(engine_args)}
    pairs = list(items.items()) if isinstance(items, dict) else [_split(item) for item in items]
    parsed: dict[str, Any] = {}
    for key, value in pairs:
        key = key.strip().replace("-", "_")
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=3)
            raise EktError(f"--engine-arg {key}: not a vLLM engine argument"
                           + (f" (did you mean {', '.join(close)}?)" if close else ""))
        parsed[key] = value if not isinstance(value, str) else _convert(key, value, fields[key].type)
    return parsed


def _split(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise EktError(f"--engine-arg {item!r}: expected KEY=VALUE, e.g. max_model_len=4096")
    return key, value


def _adapter(annotation: Any) -> Any:
    from pydantic import TypeAdapter

    if isinstance(annotation, str):
        return None  # a forward reference vLLM's module resolves, we cannot
    try:
        return TypeAdapter(annotation)
    except Exception:  # noqa: BLE001 - pydantic has no schema for some types (torch.dtype): take the text
        return None


def _convert(key: str, value: str, annotation: Any) -> Any:
    from pydantic import ValidationError

    text = value.strip()
    adapter = _adapter(annotation)
    if adapter is None:
        return json.loads(text) if text[:1] in "[{" else text
    candidates: list[Any] = [None] if text.lower() in ("none", "null") else []
    try:
        return adapter.validate_json(text)
    except ValidationError:
        pass
    for candidate in [*candidates, text]:
        try:
            return adapter.validate_python(candidate)
        except ValidationError as exc:
            error = exc.errors()[0]["msg"]
    raise EktError(f"--engine-arg {key}={value}: {error} (the field is {_name(annotation)})")


def _name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")
