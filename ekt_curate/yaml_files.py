"""Reading the YAML files users write (pipelines, training configs), with one clear error each.

A key written twice in one mapping is an error (PyYAML silently keeps the last one, so an edit
lower in a long file would quietly undo one above), and a syntax error is one line naming the
file, line and column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ekt_curate.errors import EktError


def _strict_loader() -> type:
    import yaml

    class StrictLoader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                line = key_node.start_mark.line + 1
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {key!r} is given twice (lines {seen[key]} and {line})", key_node.start_mark)
                seen[key] = line
            return super().construct_mapping(node, deep=deep)

    return StrictLoader


def load_mapping(path: Path, what: str) -> dict[str, Any]:
    import yaml

    try:
        loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=_strict_loader()) or {}  # noqa: S506 - a SafeLoader
    except OSError as exc:
        raise EktError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise EktError(f"{path}: invalid YAML: {_one_line(exc)}") from None
    if not isinstance(loaded, dict):
        raise EktError(f"{path}: a {what} is a mapping of keys to values")
    return loaded


def _one_line(exc: Any) -> str:
    """PyYAML's message spans lines (context, the offending text, a caret): keep what and where."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}{problem}"
