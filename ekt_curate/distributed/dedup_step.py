"""The dedup stage as datatrove steps, partitioned by task: each rank owns whole tasks.

Rank ``r`` of ``N`` owns the lines whose ``task_id`` has ``crc32(str(task_id)) % N == r`` (stable
across processes and machines, unlike ``hash()``); a line with no readable task id is dropped
for itself alone, by the rank its position gives. Dedup decides within a task only, and the
lines keep the input's numbering, so a rank decides exactly what ``ekt-curate dedup`` decides
for its tasks: the same passes (``stages/dedup.py``: ``plan_dedup``, ``dedup_outcomes``),
the same ``line`` and ``duplicate_of`` numbers.

    DedupTasks(source, ...) -> DedupWriter(folder, output, dedup)

``DedupTasks`` reads the source itself (pass 1 decides, pass 2 writes: a datatrove stream can be
read only once, and holding the records instead would cost the memory dedup avoids).
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from ekt_curate.distributed.ranks import rank_output
from ekt_curate.jsonl import LineWriter, dumps
from ekt_curate.provenance import meta_path, write_meta
from ekt_curate.stages.dedup import DedupConfig, check_settings, dedup_outcomes, plan_dedup, sidecar


def owner(line: int, raw: bytes, world_size: int) -> int:
    """The rank that owns a line: by its task id (the key dedup groups by), else by position."""
    from ekt_curate.fields import task_id_of

    try:
        task_id = task_id_of(json.loads(raw))  # the id plain dedup groups by, in whatever shape it is kept
    except (ValueError, KeyError, TypeError, AttributeError):
        return (line - 1) % world_size
    return zlib.crc32(task_id.encode("utf-8", "surrogatepass")) % world_size


def kept_lines_of(rank_file: Path) -> Path:
    """Input line numbers of a rank's kept records, one per line: the merge's order."""
    return rank_file.with_name(rank_file.name.removesuffix(".jsonl") + ".kept-lines")


def dropped_of(output: Path) -> Path:
    return output.with_name(output.name.removesuffix(".jsonl") + ".dropped.jsonl")


class DedupTasks(PipelineStep):
    """Args:
        source: verified samples (``ekt-curate verify``'s output) in any form plain dedup reads
            (``ekt_curate.sources``: JSON Lines, parquet, CSV, a published folder, ``hf:ORG/NAME``);
            every rank reads it whole, twice, and keeps the tasks it owns
        **settings: any of ``DedupConfig``'s: ``threshold``, ``num_perm``, ``max_per_task``,
            ``keep_failed``, ``unverified``

    Yields one document per owned non-blank line, in input order: ``metadata["line"]`` (the
    input's numbering), ``metadata["record"]`` (what dedup writes: with ``dedup`` or
    ``dedup_dropped``) and ``metadata["reason"]`` (None when kept).
    """

    name = "ekt dedup (by task)"
    type = "🫂 - DEDUP"

    def __init__(self, source: str | Path, **settings: Any):
        from ekt_curate.sources import parse_source

        super().__init__()
        self.config = DedupConfig(input=Path(source), **settings)
        check_settings(self.config)  # one line here, not a traceback in every rank
        self.source = parse_source(source)  # the reader plain dedup uses: the same positions, any format
        self.counts: dict[str, int] = {}  # read, verdicts, tasks of this rank, for DedupWriter's sidecar

    def _owned(self, rank: int, world_size: int) -> Iterator[tuple[int, bytes]]:
        from ekt_curate.sources import iter_raw

        for line, raw in iter_raw(self.source):
            if raw.strip() and owner(line, raw, world_size) == rank:
                yield line, raw

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        with self.track_time():
            plan = plan_dedup(self._owned(rank, world_size), self.config)
        self.counts = {"read": plan.read, "verdicts": plan.verdicts, "tasks": plan.tasks}
        self.stat_update("tasks", value=plan.tasks, unit="task")
        for line, record, reason in dedup_outcomes(self._owned(rank, world_size), plan):
            self.stat_update("kept" if reason is None else f"dropped: {reason}")
            yield Document(text=str(record.get("completion", "")), id=str(line),
                           metadata={"line": line, "record": record, "reason": reason})


class DedupWriter(PipelineStep):
    """Args:
        folder: where the per-rank files go
        output: the merged file they are for (names the rank files)
        dedup: the DedupTasks step before this one (settings and counts for the sidecar)

    Per rank: ``OUTPUT_STEM.shard-R-of-N.jsonl`` (kept), its ``.dropped.jsonl``, ``.kept-lines``
    (the kept records' input lines, for the merge) and ``.meta.json`` (a dedup sidecar).
    """

    name = "ekt dedup (per rank)"
    type = "💽 - WRITER"

    def __init__(self, folder: str | Path, output: str | Path, dedup: DedupTasks):
        super().__init__()
        self.folder, self.output, self.dedup = Path(folder), Path(output), dedup

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        output = rank_output(self.folder, self.output, rank, world_size)
        files = (output, dropped_of(output), kept_lines_of(output), meta_path(output))
        for path in files:  # a rank that runs again (it was killed) starts its files over
            path.unlink(missing_ok=True)
        writers = [LineWriter(path) for path in files[:3]]
        kept, dropped = 0, Counter()
        try:
            for document in data:
                meta = document.metadata
                if meta["reason"] is None:
                    writers[0].write_line(dumps(meta["record"]))
                    writers[2].write_line(b"%d\n" % meta["line"])
                    kept += 1
                else:
                    writers[1].write_line(dumps(meta["record"]))
                    dropped[str(meta["reason"])] += 1
                yield document
        finally:
            for writer in writers:
                writer.close()
        counts = self.dedup.counts
        write_meta(output, "dedup", {**sidecar(self.dedup.config, counts["read"], kept, dropped, counts["tasks"]),
                                     "verdicts": counts["verdicts"], "shard": [rank, world_size], "complete": True},
                   upstream=self.dedup.config.input)
