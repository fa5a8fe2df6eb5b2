"""Where the fidelity corpora's fixtures live, and how every converter writes them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

FIXTURES = Path(__file__).parent / "fidelity"
MAX_FIXTURE_BYTES = 580_000  # the first programs in order, up to this size, so fixtures stay small


def write_fixture(corpus: str, rows: Iterable[dict], max_bytes: int | None = None) -> tuple[Path, int, int]:
    """``rows`` as JSON Lines in ``FIXTURES/<corpus>.jsonl``, in order, stopping before the first row
    that would take the file past ``max_bytes``; returns (path, rows written, bytes)."""
    lines, size = [], 0
    for row in rows:
        text = json.dumps(row, ensure_ascii=False) + "\n"
        if max_bytes is not None and size + len(text.encode()) > max_bytes:
            break
        lines.append(text)
        size += len(text.encode())
    path = FIXTURES / f"{corpus}.jsonl"
    path.write_text("".join(lines))
    return path, len(lines), size
