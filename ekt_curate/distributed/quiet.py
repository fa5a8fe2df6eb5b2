"""``-q`` with ``--executor``: datatrove's per-rank INFO logging (loguru) kept off the terminal.

datatrove sets up each rank's logging itself (``add_task_logger``: everything into the rank's
``logs/task_R.log``, INFO and up on stderr for local rank 0, ERROR and up for the others), in the
rank's own process. These executors run each rank as one of the others: its log file keeps
everything, stderr gets errors only. The launching process's own loguru output (skipped ranks,
the stats table) is cut to warnings by ``quiet_logs``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from datatrove.executor import LocalPipelineExecutor, SlurmPipelineExecutor


def _errors_only_on_stderr():
    import datatrove.executor.base as base

    original = base.add_task_logger
    if getattr(original, "ekt_quiet", False):
        return original, original

    def add_task_logger(logging_dir, rank, local_rank=0, node_rank=-1):
        return original(logging_dir, rank, local_rank=max(1, local_rank), node_rank=node_rank)

    add_task_logger.ekt_quiet = True  # type: ignore[attr-defined]
    base.add_task_logger = add_task_logger
    return original, add_task_logger


class _QuietRanks:
    def _run_for_rank(self, rank: int, local_rank: int = 0):  # type: ignore[no-untyped-def]
        import datatrove.executor.base as base

        original, _ = _errors_only_on_stderr()
        try:
            return super()._run_for_rank(rank, local_rank)  # type: ignore[misc]
        finally:
            base.add_task_logger = original  # a rank run in this process leaves it as it was
            _warnings_only()  # the rank reset loguru to INFO; the executor logs "N/M tasks completed" next


class QuietLocalPipelineExecutor(_QuietRanks, LocalPipelineExecutor):
    pass


class QuietSlurmPipelineExecutor(_QuietRanks, SlurmPipelineExecutor):
    pass


def _warnings_only() -> int:
    from loguru import logger

    logger.remove()
    return logger.add(sys.stderr, level="WARNING")


@contextmanager
def quiet_logs(quiet: bool) -> Iterator[None]:
    """Warnings and errors only from loguru in this process while the block runs."""
    if not quiet:
        yield
        return
    from loguru import logger

    handler = _warnings_only()
    try:
        yield
    finally:
        try:
            logger.remove(handler)
        except ValueError:  # a rank run in this process replaced the handlers itself
            logger.remove()
        # loguru's default again, to whatever sys.stderr is when a message comes (not the stream of now)
        logger.add(lambda message: sys.stderr.write(message))
