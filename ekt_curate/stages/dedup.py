"""`ekt-curate dedup`: keep passing samples, drop duplicates within each task.

The input is any source verify reads (ekt_curate/sources.py: JSON Lines, parquet, CSV, a dataset
folder, ``hf:``; a Hub dataset is streamed once per pass). Two passes over it, so memory holds
one MinHash row (num_perm uint32) and a few ints per eligible sample, never the records themselves:
1. read, canonicalize, MinHash in bulk, decide per task;
2. re-read, write kept records (plus ``dedup``) to the output and every dropped
   record (plus ``dedup_dropped`` with the reason) to ``<output stem>.dropped.jsonl``,
   both in input order.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ekt_curate.errors import EktError
from ekt_curate.jsonl import LineWriter
from ekt_curate.output_lock import OutputLock
from ekt_curate.provenance import write_meta

POOL_MIN = 20_000  # input lines from which plain dedup canonicalizes and hashes in a process pool


@dataclass(frozen=True)
class DedupConfig:
    input: Path
    output: Path | None = None
    threshold: float = 0.85
    num_perm: int = 128
    max_per_task: int | None = None
    keep_failed: bool = False
    unverified: bool = False          # the input has no verdicts (raw samples): dedup every program
    overwrite: bool = False
    processes: int | None = None      # plain dedup's worker processes; None: one per CPU from POOL_MIN lines


@dataclass
class DedupSummary:
    output: Path
    dropped_path: Path
    read: int = 0
    kept: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    tasks: int = 0
    seconds: float = 0.0


def output_paths(config: DedupConfig) -> tuple[Path, Path]:
    if config.output is not None:
        output = config.output
    else:
        from ekt_curate.sources import parse_source

        # next to a local input (file or folder); a Hub dataset's output goes to the current folder
        source = parse_source(config.input)
        stem = source.stem.removesuffix(".verified")
        output = Path(f"{stem}.curated.jsonl") if source.path is None else config.input.with_name(f"{stem}.curated.jsonl")
    return output, output.with_name(output.name.removesuffix(".jsonl") + ".dropped.jsonl")


def check_settings(config: DedupConfig) -> None:
    if not 0.0 < config.threshold <= 1.0:
        raise EktError(f"--threshold must be in (0, 1], got {config.threshold}")
    if config.num_perm < 16:
        raise EktError(f"--num-perm must be at least 16, got {config.num_perm}")
    if config.max_per_task is not None and config.max_per_task < 1:
        raise EktError(f"--max-per-task must be at least 1, got {config.max_per_task}")


def no_verdicts_error(source: Path | str) -> EktError:
    return EktError(f"{source}: no record has a verdict: dedup keeps the samples that passed 'ekt-curate "
                    f"verify', so verify it first (or pass --unverified to dedup raw samples); nothing was written")


@dataclass
class DedupPlan:
    """Pass 1's decisions, by input line: what pass 2 needs to write every line."""

    decisions: dict[int, Any] = field(default_factory=dict)   # line -> Member (steps/dedup.py)
    early_drops: dict[int, str] = field(default_factory=dict)  # line -> reason, for lines that never reach dedup
    read: int = 0                     # non-blank lines
    verdicts: int = 0                 # records with a verdict
    tasks: int = 0
    verbatim: set[int] = field(default_factory=set)  # lines that are jsonl.dumps of their record (dedup_pool.py)


def plan_dedup(lines: Iterable[tuple[int, bytes]], config: DedupConfig,
               advance: Callable[[int], None] = lambda n: None, pool: Any = None) -> DedupPlan:
    """Pass 1 over (line number, raw line): canonicalize, MinHash in bulk, decide per task. A task's
    decisions depend on its own lines alone (numbered as given), so any split of the input that
    keeps each task whole (ekt_curate/distributed/dedup_step.py) decides exactly the same.
    Chunks of lines are read here and canonicalized and hashed in ``pool`` (steps/dedup_pool.py)
    when given, in this process otherwise; their results are taken in input order."""
    from ekt_curate.steps.dedup_pool import chunked

    return plan_pieces(chunked(lines), config, advance, pool)


def plan_pieces(pieces: Iterable[Any], config: DedupConfig, advance: Callable[[int], None] = lambda n: None,
                pool: Any = None) -> DedupPlan:
    """plan_dedup over pieces of the input (steps/dedup_pool.py: chunks of lines, or ranges of a
    JSON Lines file that the workers read themselves)."""
    import numpy as np

    from ekt_curate.steps.dedup import Member, TaskDedup
    from ekt_curate.steps.dedup_pool import Inline, analyse_chunk

    plan = DedupPlan()
    tasks: dict[str, TaskDedup] = {}
    blocks: list[np.ndarray] = [np.zeros((0, config.num_perm), dtype=np.uint32)]
    rows = 0
    for result in (pool or Inline()).map(functools.partial(analyse_chunk, config), pieces):
        advance(result.lines)
        plan.read += result.read
        plan.verdicts += result.verdicts
        plan.early_drops.update(result.early_drops)
        plan.verbatim.update(result.verbatim)
        for line, task_id, canonical_hash, row in result.members:
            tasks.setdefault(task_id, TaskDedup()).add(Member(line, canonical_hash, rows + row))
        blocks.append(result.rows)
        rows += len(result.rows)
    matrix = np.vstack(blocks)
    # decided here, ~0.5 s of 100k records: deciding batches of tasks in the pool measured no faster
    for task in tasks.values():
        task.decide(matrix, config.threshold, config.num_perm, config.max_per_task)
        for member in task.members:
            plan.decisions[member.line] = member
    plan.tasks = len(tasks)
    return plan


def read_line(raw: bytes, config: DedupConfig) -> tuple[tuple[str, str] | str, bool, Any]:
    """((task id, program), has a verdict, record) for a line dedup compares, (reason, has a
    verdict, record or None) for one it drops before: ``invalid_line`` or ``not_passed``."""
    from ekt_curate.fields import program_of, task_id_of

    record = None
    try:
        record = loads(raw)
        # verify's output has task_id and completion; unverified samples may be in any shape
        # verify reads (messages, OpenAI responses, Batch lines), read the same way here
        task_id, program = task_id_of(record), program_of(record)
        verdict = record.get("verdict")
        if verdict is None and config.unverified:
            passed, counted = True, False
        else:
            passed, counted = bool(verdict["passed"]), True
    except (ValueError, KeyError, TypeError, AttributeError):  # ShapeError is a ValueError
        return "invalid_line", False, record
    if not passed and not config.keep_failed:
        return "not_passed", counted, record
    return (task_id, program), counted, record


def dedup_outcomes(lines: Iterable[tuple[int, bytes]], plan: DedupPlan,
                   advance: Callable[[int], None] = lambda n: None) -> Iterator[tuple[int, dict[str, Any], str | None]]:
    """Pass 2 over the same lines: (line, record to write, None) for a kept record (plus ``dedup``),
    (line, record, reason) for a dropped one (plus ``dedup_dropped``), in input order."""
    for line, raw in lines:
        advance(1)
        if not raw.strip():
            continue
        member = plan.decisions.get(line)
        if member is not None and member.reason is None:
            record = loads(raw)
            record["dedup"] = {"cluster_size": member.cluster_size, "canonical_hash": member.canonical_hash}
            yield line, record, None
            continue
        reason = plan.early_drops.get(line) or member.reason
        duplicate_of = getattr(member, "duplicate_of", None)
        try:
            record = loads(raw)
            if not isinstance(record, dict):
                raise ValueError
        except ValueError:
            record = {"raw": raw.decode("utf-8", "replace")[:10000]}
        record["dedup_dropped"] = {"reason": reason, "line": line, "duplicate_of": duplicate_of}
        yield line, record, reason


def loads(raw: bytes) -> Any:
    """json.loads(raw), 25% faster for a line that starts as a JSON object does: json.loads of bytes
    first guesses their encoding (utf-8 for any line starting '{"') and decodes, and both passes
    read every line (0.3 s of 100k records each)."""
    if raw[:2] == b'{"':
        return json.loads(raw.decode("utf-8", "surrogatepass"))  # what json.loads decodes it to
    return json.loads(raw)


def sidecar(config: DedupConfig, read: int, kept: int, dropped: Counter[str], tasks: int) -> dict[str, Any]:
    """The dedup sidecar's counts and settings (a distributed run sums its ranks into the same keys)."""
    return {"read": read, "kept": kept, "dropped": dict(sorted(dropped.items())), "tasks": tasks,
            "threshold": config.threshold, "num_perm": config.num_perm, "max_per_task": config.max_per_task,
            "keep_failed": config.keep_failed, "unverified": config.unverified}


def run_dedup(config: DedupConfig, progress: Callable[[int, int], Callable[[int], None]] | None = None,
              ) -> DedupSummary:
    """One run per output, as verify and publish: a second one refuses (EktError) before touching anything."""
    from ekt_curate.sources import parse_source

    check_settings(config)
    source = parse_source(config.input)  # one line for a missing, empty or CSV-as-JSONL input; hf: offline is exit 4
    output, dropped_path = output_paths(config)
    for path in (output, dropped_path):
        if source.path is not None and path.resolve() == source.path.resolve():
            raise EktError(f"{path}: the output would overwrite the input")
    with OutputLock(output):
        return _dedup(config, source, output, dropped_path, progress)


def _dedup(config: DedupConfig, source: Any, output: Path, dropped_path: Path,
           progress: Callable[[int, int], Callable[[int], None]] | None) -> DedupSummary:
    import time

    from ekt_curate.sources import count
    from ekt_curate.steps.dedup_pool import pieces

    for path in (output, dropped_path):
        if path.exists() and not config.overwrite:
            raise EktError(f"{path} already exists: pass --overwrite to replace it")
    started = time.monotonic()
    summary = DedupSummary(output, dropped_path)
    total = count(source)  # 0 where a streamed source's length is unknown
    pool = _pool(config, total)  # before the progress bar: its thread must not be forked
    try:
        advance = _two_passes(progress(total, 0)) if progress else (lambda n: None)
        plan = plan_pieces(pieces(source), config, advance, pool)  # pass 1
        summary.read = plan.read
        if plan.read and not plan.verdicts and not config.unverified:
            raise no_verdicts_error(source.label)
        for path in (output, dropped_path):
            path.unlink(missing_ok=True)  # the writers append
        summary.tasks = plan.tasks
        _write(pieces(source), plan, pool, output, dropped_path, summary, advance)  # pass 2
    finally:
        if pool is not None:
            pool.close()
    summary.seconds = time.monotonic() - started
    write_meta(output, "dedup", sidecar(config, summary.read, summary.kept, summary.dropped, summary.tasks),
               upstream=config.input)
    return summary


def _pool(config: DedupConfig, total: int) -> Any:
    """A process pool (steps/dedup_pool.py) for --processes > 1, or by default for an input of
    POOL_MIN lines or more on a machine with several CPUs; None: this process does it all."""
    from ekt_curate.steps import canonical, dedup, dedup_pool

    processes = config.processes or (dedup_pool.cpus() if total >= POOL_MIN else 1)
    if processes <= 1:
        return None
    canonical.fast_path()  # checked once here, inherited by the forked workers with the imports above
    dedup.minhash_rows([[1]], config.num_perm)  # numpy and the permutations, imported and drawn once
    return dedup_pool.Pool(processes)


def _write(source_pieces: Iterable[Any], plan: DedupPlan, pool: Any, output: Path, dropped_path: Path,
           summary: DedupSummary, advance: Callable[[int], None]) -> None:
    """Pass 2: kept and dropped records in input order, a chunk's lines in one write per file."""
    from ekt_curate.steps.dedup_pool import Inline, encode_chunk, pass_two_items

    kept_writer, dropped_writer = LineWriter(output), LineWriter(dropped_path)
    output.touch()  # an empty result is still a result: the summary names only files that exist
    try:
        items = pass_two_items(source_pieces, plan)
        for count, kept, dropped, kept_count, reasons in (pool or Inline()).map(encode_chunk, items):
            advance(count)
            if kept:
                kept_writer.write_line(kept)
            if dropped:
                dropped_writer.write_line(dropped)
            summary.kept += kept_count
            summary.dropped.update(reasons)
    finally:
        kept_writer.close()
        dropped_writer.close()


def _two_passes(advance: Callable[[int], None]) -> Callable[[int], None]:
    """Progress in input lines for a stage that reads its input twice: each read counts half, so
    the bar ends at the number of lines, not twice it."""
    reads = [0]

    def step(count: int) -> None:
        before = reads[0] // 2
        reads[0] += count
        if reads[0] // 2 > before:
            advance(reads[0] // 2 - before)

    return step
