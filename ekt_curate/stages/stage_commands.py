"""The ``ekt-curate`` command that reproduces one stage, written from that stage's config.

``ekt-curate run`` and ``ekt-curate demo`` call the stages in-process, so the command line a
sidecar would record (argv) is the pipeline's, the same for every stage. The pipeline records
instead, for each stage, the command of that stage alone, built here from the config the stage
ran with by walking the CLI's own parser: every option whose value differs from the parser's
default is written (and the stage's main setting always: verify's --policy, dedup's
--threshold), so a new option cannot be forgotten and a renamed one cannot drift
(tests/stages/test_pipeline.py parses a command back, and runs each card command by hand).
Operational switches that do not change the output (--resume, --overwrite, -q) are left out.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any

SKIPPED = frozenset({"help", "resume", "overwrite", "quiet", "strict", "handler"})
ALWAYS = {"verify": ("policy",), "dedup": ("threshold",)}  # the stage's main setting, even at its default
RENAMED = {"sample": {"verify_policy": "policy"}}          # config field -> the parser's dest


def command_for(stage: str, config: Any, cwd: Path | None = None, **values: Any) -> str:
    """``ekt-curate STAGE ...`` for ``config`` (a stage's config dataclass); ``values`` replace or
    add parser values (e.g. a file the option takes where the config holds its text). Paths
    inside ``cwd`` are written relative to it."""
    parser = _subparser(stage)
    given = _values(stage, config)
    given.update(values)
    argv = ["ekt-curate", stage]
    seen: set[str] = set()
    for action in parser._actions:
        dest = action.dest
        if dest in SKIPPED or dest in seen or dest not in given or isinstance(action, argparse._HelpAction):
            continue
        seen.add(dest)  # a second option for the same dest (--chat for --endpoint) is an alias
        argv += _option(action, given[dest], dest in ALWAYS.get(stage, ()), cwd)
    return " ".join(map(_quoted, argv))


def _quoted(arg: str) -> str:
    """shlex's quoting, and bash's $'...' for an argument with a control character (a stop
    sequence "\nQ:"), which would otherwise break the command's line on the card."""
    if not any(ord(char) < 32 or ord(char) == 127 for char in arg):
        return shlex.quote(arg)
    named = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\\": "\\\\", "'": "\\'"}
    escaped = "".join(named.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 32 or ord(char) == 127 else char)
                      for char in arg)
    return f"$'{escaped}'"


def _subparser(stage: str) -> argparse.ArgumentParser:
    from ekt_curate.cli import build_parser

    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return subparsers.choices[stage]


def _values(stage: str, config: Any) -> dict[str, Any]:
    """The config's fields under the parser's names, in the parser's forms."""
    values: dict[str, Any] = {}
    renamed = RENAMED.get(stage, {})
    for field in dataclass_fields(config):
        value = getattr(config, field.name)
        if field.name == "fields":  # FieldNames: one option per name
            values.update({f"{key}_field": name for key, name in vars(value).items()})
        elif field.name == "shard":
            values["shard"] = None if value is None else f"{value[0]}/{value[1]}"
        elif field.name == "engine_args" and isinstance(value, dict):
            values["engine_args"] = [f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in value.items()]
        elif field.name in ("language", "tags") and value is not None:
            values[field.name] = ",".join(value)
        else:
            values[renamed.get(field.name, field.name)] = value
    return values


def _option(action: argparse.Action, value: Any, always: bool, cwd: Path | None) -> list[str]:
    if not action.option_strings:  # positional
        return [_text(value, cwd)]
    flag = action.option_strings[0]
    if isinstance(action, argparse._StoreTrueAction):
        return [flag] if value else []
    if value is None or (value == action.default and not always) or (isinstance(value, (list, tuple)) and not value):
        return []
    if isinstance(action, argparse._AppendAction):
        return [part for item in value for part in (flag, _text(item, cwd))]
    return [flag, _text(value, cwd)]


def _text(value: Any, cwd: Path | None) -> str:
    if isinstance(value, Path) and cwd is not None:
        try:
            return os.path.relpath(value.resolve(), cwd.resolve()) if value.resolve().is_relative_to(cwd.resolve()) \
                else str(value)
        except (OSError, ValueError):
            return str(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)
