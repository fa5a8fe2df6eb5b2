"""ekt-curate's stages as datatrove pipeline steps, and the glue that runs them on a
``LocalPipelineExecutor``, ``SlurmPipelineExecutor`` or ``RayPipelineExecutor``.

    from ekt_curate.distributed import SampleLinesReader, VerifySamples, VerdictWriter

Names are resolved lazily (module ``__getattr__``) so that ``import ekt_curate.distributed.options``
(the CLI's argument definitions) works without datatrove, and a missing datatrove is one sentence
with the pip command instead of a traceback.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "SampleLinesReader": "ekt_curate.distributed.readers",
    "VerifySamples": "ekt_curate.distributed.verify_step",
    "VerdictWriter": "ekt_curate.distributed.writers",
    "DedupTasks": "ekt_curate.distributed.dedup_step",
    "DedupWriter": "ekt_curate.distributed.dedup_step",
    "SampleProblems": "ekt_curate.distributed.sample_step",
    "ExecutorConfig": "ekt_curate.distributed.executors",
    "build_executor": "ekt_curate.distributed.executors",
    "run_verify_distributed": "ekt_curate.distributed.verify_run",
    "merge_ranks": "ekt_curate.distributed.merge",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from ekt_curate.distributed.deps import require_datatrove

    require_datatrove()
    return getattr(import_module(_EXPORTS[name]), name)
