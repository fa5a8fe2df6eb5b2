"""A plain run's files: written into its scratch folder before it runs and read back after, by
the confined child itself, so a path reaches only what the program could open (symlinks and
``..`` included). Imported by the zygote, so a child imports nothing."""

from __future__ import annotations

import base64
import os
from typing import Any


def write_files(files: Any) -> tuple[Any, BaseException] | None:
    """Write each (path, base64) pair; the first that fails, and why, or None."""
    for path, data in files or ():
        try:
            folder = os.path.dirname(path)
            if folder:
                os.makedirs(folder, exist_ok=True)
            with open(path, "wb") as handle:
                handle.write(base64.b64decode(data))
        except BaseException as exc:  # noqa: BLE001 - over the size limit, outside the scratch folder
            return path, exc
    return None


def read_files(paths: Any, budget: int) -> list[list[str]]:
    """[path, base64] of each file while they fit the budget (a missing one is left out)."""
    found = []
    for path in paths:
        try:
            with open(path, "rb") as handle:
                data = handle.read(budget + 1)
        except BaseException:  # noqa: BLE001 - the program did not make it, or made it unreadable
            continue
        encoded = base64.b64encode(data).decode("ascii")
        if len(data) > budget or len(encoded) > budget * 2:
            break
        budget -= len(data)
        found.append([str(path), encoded])
    return found
