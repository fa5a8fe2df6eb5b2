"""Provenance sidecars: each stage writes ``<output>.meta.json`` next to its output,
embedding the sidecar of its input, so a published dataset can say exactly where
it came from (commands, counts before and after each stage, policy, versions)."""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ekt_curate import __version__
from ekt_curate.errors import OutputError


def meta_path(output: Path) -> Path:
    return output.with_name(output.name + ".meta.json")


_STAGE_COMMAND: list[str] = []  # set by a pipeline around each stage it runs in-process


@contextmanager
def stage_command(command: str) -> Iterator[None]:
    """Within: sidecars record ``command`` (the stage's own ``ekt-curate STAGE ...``, which
    ekt_curate/stages/stage_commands.py writes from its config) as the command, and the command
    line that ran it (``ekt-curate run``/``demo``) as ``run_by``."""
    _STAGE_COMMAND.append(command)
    try:
        yield
    finally:
        _STAGE_COMMAND.pop()


def command_line() -> str:
    """The command that reproduces this output: inside a pipeline, the stage's own (see
    stage_command); else the command as the user typed it (argv). Never includes environment."""
    return _STAGE_COMMAND[-1] if _STAGE_COMMAND else invoked_command()


def invoked_command() -> str:
    """The command as the user typed it (argv), for the record; never includes environment."""
    program = Path(sys.argv[0]).name if sys.argv else "ekt-curate"
    if program in ("__main__.py", "-m"):
        program = "ekt-curate"
    return shlex.join([program if program.startswith("ekt") else "ekt-curate", *sys.argv[1:]])


def read_meta(output: Path) -> dict[str, Any] | None:
    path = meta_path(output)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def write_meta(output: Path, stage: str, data: dict[str, Any], upstream: Path | None = None) -> Path:
    ran_by = {"run_by": invoked_command()} if _STAGE_COMMAND else {}
    record = {"stage": stage, "ekt_curate_version": __version__, "command": command_line(), **ran_by, **data}
    if upstream is not None:
        record["input"] = str(upstream)
        parent = read_meta(upstream)
        if parent is not None:
            record["upstream"] = parent
    path = meta_path(output)
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_text(json.dumps(record, indent=2, sort_keys=False) + "\n")
        os.replace(temporary, path)
    except BaseException as exc:  # a full disk, or a signal mid-write: leave no empty .tmp behind
        temporary.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"{path}: cannot write: {exc.strerror}") from None
        raise
    return path


def find_stage(meta: dict[str, Any] | None, *stages: str) -> dict[str, Any] | None:
    """The nearest sidecar of any of ``stages`` up the chain."""
    while meta is not None:
        if meta.get("stage") in stages:
            return meta
        meta = meta.get("upstream")
    return None


def find_verify(meta: dict[str, Any] | None) -> dict[str, Any] | None:
    """The verify counts and settings: a verify run's sidecar, or merge's (its shards summed)."""
    return find_stage(meta, "verify", "merge")
