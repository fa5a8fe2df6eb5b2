"""Join the per-rank files of a distributed verify into the file a single-machine run writes.

The ranks are the files ``verify --shard R/N`` writes, so this is ``ekt-curate merge``
(``run_merge``: the ranks' own bytes, by input line; a rank whose lines were all rejected has no
output, only its rejects and a sidecar saying so). The sidecar has ``run_merge``'s keys plus
``distributed`` (executor, tasks, the per-step counts summed over the ranks).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ekt_curate.provenance import read_meta
from ekt_curate.stages.merge import run_merge


def merge_ranks(ranks: list[Path], output: Path, distributed: dict[str, Any] | None = None,
                warn: Callable[[str], None] = lambda message: print(message, file=sys.stderr)) -> tuple[int, int]:
    """Merge the rank outputs (every rank, in rank order) into ``output``; returns (samples, rejected)."""
    steps: dict[str, dict[str, Any]] = {}
    for meta in map(read_meta, ranks):
        for name, counts in (meta or {}).get("steps_this_run", {}).items():
            total = steps.setdefault(name, {"seen": 0, "dropped": Counter()})
            total["seen"] += counts["seen"]
            total["dropped"].update(counts["dropped"])
    summed = {name: {"seen": c["seen"], "dropped": dict(c["dropped"])} for name, c in steps.items()}
    return run_merge(ranks, output, overwrite=True, warn=warn,
                     extra={"distributed": {**(distributed or {}), "steps": summed}})
