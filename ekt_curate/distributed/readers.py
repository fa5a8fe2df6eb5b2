"""Read samples as datatrove documents, one per input position, sharded by position.

datatrove's own ``JsonlReader`` gives each rank whole files, so one big file would land on a
single rank, and it re-serializes records. This reader gives rank ``r`` of ``N`` the positions
with ``(position - 1) % N == r`` (exactly ``verify --shard r/N``), read by verify's own reader
(``ekt_curate.sources``: JSON Lines, parquet, CSV, a published folder, ``hf:ORG/NAME``), and keeps
each position's raw bytes, so the per-rank outputs merge into the file a single-machine run
writes. Documents from datatrove's readers (``JsonlReader``, ``ParquetReader``) work too:
``VerifySamples`` rebuilds their records.
"""

from __future__ import annotations

from pathlib import Path

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep


class SampleLinesReader(PipelineStep):
    """Args:
        source: samples (``task_id``, ``completion``, ``gold``, ...): a JSON Lines, parquet or CSV
            file, a folder written by ``publish``, or ``hf:ORG/NAME[:CONFIG[:SPLIT]]``. Every rank
            reads the whole source and keeps its share: cheap for files, a full download per rank
            for the Hub (cache it first on a cluster).
    """

    name = "ekt samples (by position)"
    type = "📖 - READER"

    def __init__(self, source: str | Path):
        from ekt_curate.sources import parse_source

        super().__init__()
        self.source = parse_source(source)  # a missing or empty file fails here, before any rank

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        from ekt_curate.sources import iter_raw

        if data:
            yield from data
        for line, raw in iter_raw(self.source):
            if (line - 1) % world_size != rank:
                continue
            self.stat_update("lines")
            # text is for datatrove's own tooling; the verify step parses the raw bytes, as verify does
            yield Document(text=raw.decode("utf-8", "replace"), id=f"{self.source.label}:{line}",
                           metadata={"line": line, "raw": raw})
