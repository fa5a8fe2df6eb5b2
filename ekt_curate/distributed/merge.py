"""Join the per-rank files of a distributed verify into the file a single-machine run writes.

The joining itself is ``ekt-curate merge``'s (``check_shards``, ``merge_files``: the ranks' own
bytes, by input line). Not ``run_merge`` as a whole: it refuses an empty shard, and a rank whose
lines were all rejected has an empty output (its rejects still count). The sidecar has
``run_merge``'s keys plus ``distributed`` (executor, tasks, the per-step counts summed over ranks).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ekt_curate.distributed.writers import rejects_of
from ekt_curate.provenance import read_meta, write_meta
from ekt_curate.stages.merge import SAME_SETTINGS, check_shards, merge_files


def merge_ranks(ranks: list[Path], output: Path, distributed: dict[str, Any] | None = None,
                warn: Callable[[str], None] = lambda message: print(message, file=sys.stderr)) -> tuple[int, int]:
    """Merge the rank outputs (every rank, in rank order) into ``output``; returns (samples, rejected)."""
    metas = [read_meta(rank) for rank in ranks]
    check_shards(ranks, metas, allow_partial=False, warn=warn)
    rejects_out = rejects_of(output)
    for path in (output, rejects_out):
        path.unlink(missing_ok=True)
    statuses: Counter[str] = Counter()
    tasks: set[str] = set()
    passed: set[str] = set()

    def seen(record: dict[str, Any]) -> None:
        statuses[str(record["verdict"].get("status"))] += 1
        tasks.add(str(record.get("task_id")))
        if record["verdict"].get("passed"):
            passed.add(str(record.get("task_id")))

    samples = merge_files(ranks, output, "verdict", seen)
    output.touch()  # verify writes no output when every line is rejected; a merged run always has one
    rank_rejects = [path for path in map(rejects_of, ranks) if path.exists()]
    rejects = merge_files(rank_rejects, rejects_out, "line") if rank_rejects else 0
    first = metas[0] or {}
    steps: dict[str, dict[str, Any]] = {}
    for meta in metas:
        for name, counts in (meta or {}).get("steps_this_run", {}).items():
            total = steps.setdefault(name, {"seen": 0, "dropped": Counter()})
            total["seen"] += counts["seen"]
            total["dropped"].update(counts["dropped"])
    write_meta(output, "merge", {
        **{key: first.get(key) for key in (*SAME_SETTINGS, "ekt_curate_version")},
        "lines": samples + rejects, "samples": samples, "rejected": rejects,
        "statuses": dict(sorted(statuses.items())), "tasks": len(tasks), "tasks_passed": len(passed),
        "shard_files": [str(rank) for rank in ranks], "shards": metas,
        "upstream": first.get("upstream"),
        "distributed": {**(distributed or {}),
                        "steps": {name: {"seen": c["seen"], "dropped": dict(c["dropped"])} for name, c in steps.items()}},
    })
    return samples, rejects
