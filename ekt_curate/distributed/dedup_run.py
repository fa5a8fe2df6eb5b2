"""``ekt-curate dedup INPUT --executor local|slurm|ray --tasks N``: dedup by task on datatrove, then merge.

Work folder and resume: ekt_curate/distributed/ranks.py. Each rank dedups the tasks it owns
(dedup_step.py); the merge interleaves the ranks' kept records by their input line (the
``.kept-lines`` files) and their dropped records by ``dedup_dropped.line``, so OUTPUT and its
``.dropped.jsonl`` are byte for byte what ``ekt-curate dedup`` writes; the sidecar has its keys
and counts (summed over the ranks, which own disjoint tasks) plus ``distributed``.
"""

from __future__ import annotations

import heapq
import json
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ekt_curate.distributed.dedup_step import DedupTasks, DedupWriter, dropped_of, kept_lines_of
from ekt_curate.distributed.executors import ExecutorConfig
from ekt_curate.distributed.ranks import RankedRun, prepare, rank_output, run_ranks, workdir_of
from ekt_curate.errors import EktError
from ekt_curate.jsonl import LineWriter
from ekt_curate.output_lock import OutputLock
from ekt_curate.provenance import meta_path, read_meta, write_meta
from ekt_curate.stages.dedup import DedupConfig, DedupSummary, no_verdicts_error, output_paths, sidecar


def dedup_pipeline(config: DedupConfig, output: Path, ranks_dir: Path) -> list:
    dedup = DedupTasks(config.input, threshold=config.threshold, num_perm=config.num_perm,
                       max_per_task=config.max_per_task, keep_failed=config.keep_failed, unverified=config.unverified)
    return [dedup, DedupWriter(ranks_dir, output, dedup)]


def run_dedup_distributed(config: DedupConfig, executor: ExecutorConfig, resume: bool = False,
                          warn: Callable[[str], None] = lambda message: print(message, file=sys.stderr)
                          ) -> RankedRun[DedupSummary]:
    output, dropped = output_paths(config)
    if config.input.resolve() in (output.resolve(), dropped.resolve()):
        raise EktError(f"{output}: the output would overwrite the input")
    workdir = workdir_of(output)
    pipeline = dedup_pipeline(config, output, workdir / "ranks")  # checks the settings and the input
    with OutputLock(output, warn):  # one run per output: a second would share the ranks
        settings = {"input": str(config.input), "tasks": executor.tasks, "threshold": config.threshold,
                    "num_perm": config.num_perm, "max_per_task": config.max_per_task,
                    "keep_failed": config.keep_failed, "unverified": config.unverified}
        prepare(workdir, output, (output, dropped, meta_path(output)), settings, resume, config.overwrite)
        started = time.monotonic()
        ran = run_ranks(pipeline, executor, workdir)
        result = RankedRun(DedupSummary(output, dropped), workdir, ran.skipped, job_id=ran.job_id)
        if ran.job_id is not None:
            return result
        ranks = [rank_output(workdir / "ranks", output, rank, executor.tasks) for rank in range(executor.tasks)]
        merge_dedup_ranks(ranks, config, result.summary, {**executor.describe(), "logging_dir": str(workdir / "logs"),
                                                          "ranks_skipped_as_complete": ran.skipped})
        result.summary.seconds = time.monotonic() - started
        result.merged = True
        return result


def merge_dedup_ranks(ranks: list[Path], config: DedupConfig, summary: DedupSummary,
                      distributed: dict[str, Any]) -> None:
    """Merge every rank (in rank order) into ``summary.output`` and its dropped file; fills ``summary``."""
    metas = [read_meta(rank) for rank in ranks]
    for index, (rank, meta) in enumerate(zip(ranks, metas)):
        if not meta or meta.get("stage") != "dedup" or meta.get("shard") != [index, len(ranks)]:
            raise EktError(f"{rank}: no dedup sidecar of rank {index}/{len(ranks)}; rerun with --overwrite")
    summary.read = sum(meta["read"] for meta in metas)
    if summary.read and not sum(meta["verdicts"] for meta in metas) and not config.unverified:
        shutil.rmtree(workdir_of(summary.output), ignore_errors=True)
        raise no_verdicts_error(config.input)  # as ekt-curate dedup: refused, nothing left written
    summary.tasks = sum(meta["tasks"] for meta in metas)
    for path in (summary.output, summary.dropped_path):
        path.unlink(missing_ok=True)  # the writers append
    summary.output.touch()  # as dedup: an empty result is still a result
    summary.kept = _merge([_kept(rank) for rank in ranks], summary.output)
    dropped_streams = [_dropped(dropped_of(rank)) for rank in ranks]
    dropped: Counter[str] = Counter()
    for meta in metas:
        dropped.update(meta["dropped"])
    _merge(dropped_streams, summary.dropped_path)
    summary.dropped = dropped
    write_meta(summary.output, "dedup", {
        **sidecar(config, summary.read, summary.kept, dropped, summary.tasks),
        "distributed": {**distributed, "ranks": [{key: meta[key] for key in ("shard", "read", "kept", "dropped", "tasks")}
                                                 for meta in metas]},
    }, upstream=config.input)


def _kept(rank: Path) -> Iterator[tuple[int, bytes]]:
    if not rank.exists():
        return
    with rank.open("rb") as records, kept_lines_of(rank).open("rb") as lines:
        for record, line in zip(records, lines, strict=True):
            yield int(line), record


def _dropped(path: Path) -> Iterator[tuple[int, bytes]]:
    if not path.exists():
        return
    with path.open("rb") as records:
        for record in records:
            yield int(json.loads(record)["dedup_dropped"]["line"]), record


def _merge(streams: list[Iterator[tuple[int, bytes]]], output: Path) -> int:
    """The ranks' own bytes, in input-line order."""
    writer, written = LineWriter(output), 0
    try:
        for _, record in heapq.merge(*streams, key=lambda entry: entry[0]):
            writer.write_line(record)
            written += 1
    finally:
        writer.close()
    return written
