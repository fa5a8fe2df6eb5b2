"""The sample stage as a datatrove step: rank ``r`` of ``N`` samples problems ``r, r+N, ...``
(exactly ``sample --shard r/N``) from an OpenAI-compatible endpoint into its own file.

Every sample's seed comes from the run's seed, its task and its index (sampling/base.py), not from
its rank or batch, so the ranks together write what one machine writes; the merge
(``sample_run.py``) puts the problems back in order. A rank that runs again (it was killed)
starts its file over.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from ekt_curate.distributed.ranks import rank_output
from ekt_curate.stages.sample import SampleConfig


class SampleProblems(PipelineStep):
    """Args:
        folder: where the per-rank files go (``OUTPUT_STEM.shard-R-of-N.jsonl`` and its sidecar)
        config: the ``SampleConfig`` of the whole run (``output`` names the rank files)

    Writes files and passes any documents through: nothing of the samples goes down the pipeline.
    """

    name = "ekt sample (by problem)"
    type = "🤖 - SAMPLE"

    def __init__(self, folder: str | Path, config: SampleConfig):
        super().__init__()
        self.folder, self.config = Path(folder), config

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        from ekt_curate.stages.sample import run_sample

        if data:
            yield from data
        self.folder.mkdir(parents=True, exist_ok=True)
        rank_config = dataclasses.replace(self.config, output=rank_output(self.folder, self.config.output, rank,
                                                                          world_size),
                                          shard=(rank, world_size), resume=False, overwrite=True, verify=False)
        with self.track_time():
            summary = run_sample(rank_config)
        self.stat_update("problems", value=summary.problems, unit="task")
        self.stat_update("samples", value=summary.written)
        self.stat_update("tokens", value=summary.tokens)
