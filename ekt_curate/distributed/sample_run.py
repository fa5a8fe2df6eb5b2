"""``ekt-curate sample --backend openai ... --executor local|slurm|ray --tasks N``: ranks by problem, then merge.

Work folder and resume: ekt_curate/distributed/ranks.py. Rank R writes the problems
``sample --shard R/N`` would, each problem's n samples together and in problem order; problem
``k`` is rank ``k % N``'s ``k // N``-th. The merge takes the n lines of one problem from each
rank in turn, so OUTPUT is byte for byte what one ``ekt-curate sample`` writes; its sidecar is
the sample sidecar with the ranks' counts summed, plus ``distributed``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from ekt_curate.distributed.executors import ExecutorConfig
from ekt_curate.distributed.ranks import RankedRun, prepare, rank_output, run_ranks, workdir_of
from ekt_curate.distributed.sample_step import SampleProblems
from ekt_curate.errors import EktError
from ekt_curate.jsonl import LineWriter
from ekt_curate.provenance import meta_path, read_meta, write_meta
from ekt_curate.stages.sample import SampleConfig, SampleSummary, check_settings

# what makes two runs the same run (a resume must match them)
RUN_SETTINGS = ("problems", "model", "n", "prompt", "exemplars", "temperature", "top_p", "max_new_tokens", "seed",
                "limit", "include_exemplars", "endpoint", "seeding", "base_url", "stop")


def run_sample_distributed(config: SampleConfig, executor: ExecutorConfig,
                           warn: Callable[[str], None] = lambda message: print(message, file=sys.stderr)
                           ) -> RankedRun[SampleSummary]:
    from ekt_curate.output_lock import OutputLock
    from ekt_curate.problems import iter_problems

    if config.backend != "openai":
        raise EktError(f"--executor runs the openai backend (ranks share an endpoint); for --backend "
                       f"{config.backend} run one 'sample --shard I/N' per GPU and concatenate in problem order")
    if not config.base_url:
        raise EktError("--backend openai needs --base-url (e.g. http://host:8000/v1)")
    if config.shard:
        raise EktError("--shard and --executor do not combine: the executor splits the problems into --tasks ranks")
    if config.verify:
        raise EktError("--verify and --executor do not combine: run 'ekt-curate verify OUTPUT --executor ...' after")
    check_settings(config)
    next(iter(iter_problems(config.problems, config.fields)), None)  # a bad source: one line, not one per rank
    output, workdir = config.output, workdir_of(config.output)
    with OutputLock(output, warn):  # one run per output: a second would share the ranks
        settings = {key: getattr(config, key) for key in RUN_SETTINGS}
        settings.update(tasks=executor.tasks, stop=list(config.stop) if config.stop else None)
        prepare(workdir, output, (output, meta_path(output)), settings, config.resume, config.overwrite)
        started = time.monotonic()
        ran = run_ranks([SampleProblems(workdir / "ranks", config)], executor, workdir)
        result = RankedRun(SampleSummary(output), workdir, ran.skipped, job_id=ran.job_id)
        if ran.job_id is not None:
            return result
        ranks = [rank_output(workdir / "ranks", output, rank, executor.tasks) for rank in range(executor.tasks)]
        merge_sample_ranks(ranks, output, config.n, result.summary,
                           {**executor.describe(), "logging_dir": str(workdir / "logs"),
                            "ranks_skipped_as_complete": ran.skipped})
        result.summary.seconds = time.monotonic() - started
        result.merged = True
        return result


def merge_sample_ranks(ranks: list[Path], output: Path, n: int, summary: SampleSummary,
                       distributed: dict[str, object]) -> None:
    metas = [read_meta(rank) for rank in ranks]
    for index, (rank, meta) in enumerate(zip(ranks, metas)):
        if not meta or meta.get("stage") != "sample" or meta.get("shard") != [index, len(ranks)]:
            raise EktError(f"{rank}: no sample sidecar of rank {index}/{len(ranks)}; rerun with --overwrite")
    output.unlink(missing_ok=True)
    blocks = [_problems(rank, n) for rank in ranks]
    writer = LineWriter(output)
    try:
        while blocks:
            for block in list(blocks):  # problem k is rank k % N's: one problem from each rank in turn
                lines = next(block, None)
                if lines is None:
                    blocks.remove(block)
                    continue
                for line in lines:
                    writer.write_line(line)
                summary.written += len(lines)
    finally:
        writer.close()
    summary.problems = sum(meta["problem_count"] for meta in metas)
    summary.excluded = metas[0]["excluded_exemplars"]
    keep = {key: value for key, value in metas[0].items() if key not in ("stage", "ekt_curate_version", "command")}
    write_meta(output, "sample", {**keep, "problem_count": summary.problems, "samples_written": summary.written,
                                  "shard": None, "distributed": distributed})


def _problems(rank: Path, n: int) -> Iterator[list[bytes]]:
    """A rank's lines, one problem (its n samples, index 0 first) at a time."""
    if not rank.exists():
        return
    with rank.open("rb") as handle:
        while True:
            lines = [line for _, line in zip(range(n), handle)]
            if not lines:
                return
            records = [json.loads(line) for line in lines]
            if len(lines) < n or len({str(r["task_id"]) for r in records}) != 1 or \
                    [r["sample_index"] for r in records] != list(range(n)):
                raise EktError(f"{rank}: not n={n} samples per problem in order; rerun with --overwrite")
            yield lines
