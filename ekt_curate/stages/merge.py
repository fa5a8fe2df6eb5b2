"""Join verify shards back into one file in input order (and their rejects files)."""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterator
from pathlib import Path

from ekt_curate.errors import EktError
from ekt_curate.jsonl import LineWriter, open_input


def _keyed(path: Path, key: str) -> Iterator[tuple[int, int, bytes]]:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.endswith(b"\n"):
                raise EktError(f"{path}:{number}: incomplete last line; finish the shard with --resume first")
            try:
                record = json.loads(line)
                position = int(record["verdict"]["line"] if key == "verdict" else record["line"])
            except (ValueError, KeyError, TypeError):
                raise EktError(f"{path}:{number}: not a line written by verify") from None
            yield position, number, line


def merge_files(paths: list[Path], output: Path, key: str) -> int:
    """Merge files each sorted by input line; refuse duplicates. Returns the lines written."""
    streams = [_keyed(path, key) for path in paths]
    written, previous = 0, 0
    writer = LineWriter(output)
    try:
        for position, _, line in heapq.merge(*streams):
            if position == previous:
                raise EktError(f"input line {position} appears in more than one shard")
            previous = position
            writer.write_line(line)  # verify's own bytes: merged output equals an unsharded run
            written += 1
    finally:
        writer.close()
    return written


def run_merge(shards: list[Path], output: Path, overwrite: bool = False) -> tuple[int, int]:
    for shard in shards:
        open_input(shard)
    rejects_out = output.with_name(output.name.removesuffix(".jsonl") + ".rejects.jsonl")
    for path in (output, rejects_out):
        if path.exists():
            if not overwrite:
                raise EktError(f"{path} already exists: pass --overwrite to replace it")
            path.unlink()
    if any(output.resolve() == shard.resolve() for shard in shards):
        raise EktError(f"{output}: the output would overwrite a shard")
    samples = merge_files(shards, output, "verdict")
    shard_rejects = [p for p in (s.with_name(s.name.removesuffix(".jsonl") + ".rejects.jsonl") for s in shards)
                     if p.exists()]
    rejects = merge_files(shard_rejects, rejects_out, "line") if shard_rejects else 0
    return samples, rejects
