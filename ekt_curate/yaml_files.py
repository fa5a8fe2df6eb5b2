"""Reading the YAML files users write (pipelines, training configs), with one clear error each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ekt_curate.errors import EktError


def load_mapping(path: Path, what: str) -> dict[str, Any]:
    import yaml

    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise EktError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise EktError(f"{path}: invalid YAML: {exc}") from None
    if not isinstance(loaded, dict):
        raise EktError(f"{path}: a {what} is a mapping of keys to values")
    return loaded
