"""dedup's two passes over pieces of the input, in this process or in a pool of worker processes.

A JSON Lines input is cut into ranges of :data:`CHUNK` lines that the workers read themselves;
any other source (parquet, CSV, folders, ``hf:``) is read here with ``sources.iter_raw`` and
sent in chunks. The workers do what costs: pass 1 reads each record, canonicalizes and hashes
its program and computes the piece's MinHash rows (:func:`analyse_chunk`), pass 2 encodes the
kept and dropped records of a piece (:func:`encode_chunk`, the stage's own ``dedup_outcomes`` and
``jsonl.dumps``). Results come back in input order, and decisions are made in the main process,
task by task, over the whole input: pieces only split the work, so the output is the same to
the byte whatever the number of processes (tests/stages/test_dedup_inputs.py).

Workers are forked (the work functions are module-level, so stdlib pickling is enough and the
``multiprocess``/dill layer is not needed); the pool starts before the progress bar's thread and
costs ~20 ms. At most 2 pieces per worker are in flight, so memory stays bounded by pieces, not
by the input. A worker that dies (killed, out of memory) fails the run with BrokenProcessPool
instead of hanging it, which is why this is a ProcessPoolExecutor and not multiprocessing.Pool.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import warnings
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

CHUNK = 2000   # lines per chunk: ~1 MB of GSM8K records, ~40 ms of pass-1 work
READ_BLOCK = 1 << 22  # bytes the main process scans for line ends at a time
RECENT = 8192  # programs a process remembers across chunks (their canonical hash and MinHash row)

T = TypeVar("T")
R = TypeVar("R")


def cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Inline:
    """The pool's interface, in this process: small inputs and one-CPU machines."""

    def map(self, func: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        return map(func, items)

    def close(self) -> None:
        pass


class Pool:
    def __init__(self, processes: int):
        self.processes = processes
        self._executor = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"))
        self._executor.submit(int).result()  # fork the workers now, before any thread of ours starts

    def map(self, func: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """func(item) for each item, in order, with at most 2 items per worker in flight."""
        pending: deque[Any] = deque()
        for item in items:
            pending.append(self._executor.submit(func, item))
            if len(pending) >= 2 * self.processes:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


def chunked(lines: Iterable[tuple[int, bytes]], size: int | None = None) -> Iterator[list[tuple[int, bytes]]]:
    size = size or CHUNK
    chunk: list[tuple[int, bytes]] = []
    for item in lines:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass(frozen=True)
class FileRange:
    """``count`` lines of a JSON Lines file from byte ``offset`` on, the first one numbered ``first``:
    a worker reads them itself, so the main process neither reads nor sends the records (for 100k
    records that was ~1 s of its CPU, taken from the workers on a 2-CPU machine)."""

    path: str
    offset: int
    length: int
    first: int
    count: int


Piece = list[tuple[int, bytes]] | FileRange  # a chunk of (line number, raw line), read or to read


def pieces(source: Any) -> Iterator[Piece]:
    """The source in pieces of CHUNK lines: ranges of a JSON Lines file, else chunks of iter_raw."""
    from ekt_curate.sources import iter_raw

    if source.kind != "jsonl":
        yield from chunked(iter_raw(source))
        return
    # the lines iter_raw numbers end at each b"\n" (it iterates over the file in binary mode):
    # found with numpy in blocks of READ_BLOCK bytes, not line by line in Python (0.1 s of 100k lines)
    start, first, count, offset, last = 0, 1, 0, 0, b"\n"
    with open(source.location, "rb") as handle:
        while block := handle.read(READ_BLOCK):
            last = block[-1:]
            ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10) + offset + 1
            while count + len(ends) >= CHUNK:
                take = CHUNK - count
                end = int(ends[take - 1])
                yield FileRange(source.location, start, end - start, first, CHUNK)
                start, first, count, ends = end, first + CHUNK, 0, ends[take:]
            count += len(ends)
            offset += len(block)
    if offset > start:  # the last lines, the very last one perhaps without its newline
        yield FileRange(source.location, start, offset - start, first, count + (last != b"\n"))


def lines_of(piece: Piece) -> list[tuple[int, bytes]]:
    """A piece's (line number, raw line) as ``sources.iter_raw`` gives them for a JSON Lines file:
    a UTF-8 BOM off the first line, blank lines left out, the line ending off."""
    from ekt_curate.sources import BOM

    if isinstance(piece, list):
        return piece
    with open(piece.path, "rb") as handle:
        handle.seek(piece.offset)
        data = handle.read(piece.length)
    parts = data.split(b"\n")
    if parts[-1] == b"":
        parts.pop()  # the range ends with a line ending (the file's last line may have none)
    lines = []
    for number, part in enumerate(parts, piece.first):
        if number == 1:
            part = part.removeprefix(BOM)
        if part.strip():
            lines.append((number, part.rstrip(b"\r\n")))
    return lines


def numbers_of(piece: Piece) -> Iterable[int]:
    return [line for line, _ in piece] if isinstance(piece, list) else range(piece.first, piece.first + piece.count)


def size_of(piece: Piece) -> int:
    return len(piece) if isinstance(piece, list) else piece.count


@dataclass
class Analysed:
    """Pass 1 of one chunk. ``members`` are (line, task id, canonical hash, row in ``rows``); lines
    with the same program share a row."""

    lines: int = 0                     # lines in the chunk, blank ones included (for progress)
    read: int = 0                      # non-blank lines
    verdicts: int = 0
    early_drops: dict[int, str] = field(default_factory=dict)
    members: list[tuple[int, str, str, int]] = field(default_factory=list)
    rows: np.ndarray | None = None
    verbatim: list[int] = field(default_factory=list)  # lines that are jsonl.dumps(their record)


# this process's recent programs: (num_perm, program text) -> (canonical hash, MinHash row). Teacher
# samples repeat themselves: 100k GSM8K records hold 40k distinct programs, mostly side by side.
_recent: dict[tuple[int, str], tuple[str, np.ndarray]] = {}


def analyse_chunk(config: Any, piece: Piece) -> Analysed:
    """Pass 1 of the stage (stages/dedup.py plan_dedup) for one chunk: read each line as
    ``read_line`` does, canonicalize and hash each distinct program once."""
    from ekt_curate.jsonl import dumps
    from ekt_curate.sandbox.program_text import extract_program
    from ekt_curate.stages.dedup import read_line
    from ekt_curate.steps.canonical import canonical_hash, program_form, tokens
    from ekt_curate.steps.dedup import minhash_rows, shingle_hashes

    chunk = lines_of(piece)
    result = Analysed(lines=size_of(piece))
    local: dict[str, tuple[str, int]] = {}  # program -> (canonical hash, row)
    fresh: list[list[int]] = []              # shingle hashes of the rows computed here
    fresh_rows: list[int] = []
    remembered: list[np.ndarray] = []        # rows known from an earlier chunk
    remembered_rows: list[int] = []
    num_perm = config.num_perm
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escape sequences in model text, as canonical_form does
        for line, raw in chunk:
            if not raw.strip():
                continue  # blank lines are layout, not records
            result.read += 1
            outcome, counted, record = read_line(raw, config)
            result.verdicts += counted
            if (type(record) is dict and record and "dedup" not in record and "dedup_dropped" not in record
                    and dumps(record)[:-1] == raw):
                result.verbatim.append(line)  # pass 2 appends to this line instead of parsing it again
            if isinstance(outcome, str):
                result.early_drops[line] = outcome
                continue
            task_id, completion = outcome
            program = extract_program(completion)
            known = local.get(program)
            if known is None:
                row = len(local)
                if (num_perm, program) in _recent:
                    digest, values = _recent[num_perm, program]
                    remembered.append(values)
                    remembered_rows.append(row)
                else:
                    canonical = program_form(program, warnings_off=True)
                    digest = canonical_hash(canonical)
                    fresh.append(shingle_hashes(tokens(canonical)))
                    fresh_rows.append(row)
                known = local[program] = (digest, row)
            result.members.append((line, task_id, known[0], known[1]))
    rows = np.empty((len(local), num_perm), dtype=np.uint32)
    if fresh:
        rows[fresh_rows] = minhash_rows(fresh, num_perm)
    if remembered:
        rows[remembered_rows] = np.vstack(remembered)
    result.rows = rows
    if len(_recent) + len(local) > RECENT:
        _recent.clear()
    for program, (digest, row) in local.items():
        _recent[num_perm, program] = (digest, rows[row].copy())  # a copy: a view would keep the whole chunk
    return result


def encode_chunk(item: tuple[Piece, dict[int, tuple], dict[int, str], set[int]]
                 ) -> tuple[int, bytes, bytes, int, Counter[str]]:
    """Pass 2 for one chunk and its lines' decisions: (lines, kept lines, dropped lines, kept, dropped
    by reason), the lines as the stage's dedup_outcomes and jsonl.dumps write them, in one piece each.

    A line pass 1 found to be ``jsonl.dumps`` of its record (verify's output is), a non-empty object
    without the key added here, is that line with the key appended: what dumps writes for the
    record plus one key, without parsing and writing the line again (1.4 s of 100k records)."""
    from ekt_curate.jsonl import dumps
    from ekt_curate.stages.dedup import DedupPlan, dedup_outcomes
    from ekt_curate.steps.dedup import Member

    piece, decided, early_drops, verbatim = item
    chunk = lines_of(piece)
    plan = DedupPlan(decisions={line: Member(line, digest, 0, reason, duplicate_of, cluster_size)
                                for line, (digest, reason, duplicate_of, cluster_size) in decided.items()},
                     early_drops=early_drops)
    kept: list[bytes] = []
    dropped: list[bytes] = []
    reasons: Counter[str] = Counter()
    for line, raw in chunk:
        if line in verbatim:
            decision = decided.get(line)
            if decision is not None and decision[1] is None:
                kept.append(raw[:-1] + b', "dedup": ' + _value({"cluster_size": decision[3],
                                                                 "canonical_hash": decision[0]}) + b"}\n")
                continue
            reason = early_drops.get(line) or decision[1]  # type: ignore[index]
            dropped.append(raw[:-1] + b', "dedup_dropped": ' + _value({
                "reason": reason, "line": line, "duplicate_of": decision[2] if decision else None}) + b"}\n")
            reasons[str(reason)] += 1
            continue
        for _, record, reason in dedup_outcomes([(line, raw)], plan):
            if reason is None:
                kept.append(dumps(record))
            else:
                dropped.append(dumps(record))
                reasons[str(reason)] += 1
    return size_of(piece), b"".join(kept), b"".join(dropped), len(kept), reasons


def _value(value: dict[str, Any]) -> bytes:
    """A value as jsonl.dumps writes it inside a record (ASCII here: a digest, a reason, numbers)."""
    return _ENCODER.encode(value).encode("ascii")


# what json.dumps(value, ensure_ascii=False, separators=(", ", ": ")) builds for every call (~2 us)
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))


def pass_two_items(source_pieces: Iterable[Piece], plan: Any
                   ) -> Iterator[tuple[Piece, dict[int, tuple], dict[int, str], set[int]]]:
    """The pieces with the decisions their lines need from the plan, as tuples (a Member dataclass
    pickles 6x slower: 0.5 s of 100k records)."""
    decisions, early, verbatim = plan.decisions, plan.early_drops, plan.verbatim
    for piece in source_pieces:
        decided, dropped_early, appended = {}, {}, set()
        for line in numbers_of(piece):
            member = decisions.get(line)
            if member is not None:
                decided[line] = (member.canonical_hash, member.reason, member.duplicate_of, member.cluster_size)
            elif line in early:
                dropped_early[line] = early[line]
            if line in verbatim:
                appended.add(line)
        yield piece, decided, dropped_early, appended
