"""Join verify shards back into one file in input order (and their rejects files).

Each shard's ``.meta.json`` says which shard it is (``shard: [I, N]``) and how it was
verified, so a missing, repeated or foreign shard is caught before anything is written
(``--allow-partial`` turns a missing shard into a warning; different settings stay an error).
The merged file gets a sidecar of its own: the shards' summed counts and their sidecars, so a
dataset published from it keeps its provenance. A shard whose lines were all rejected has no
output (verify writes none) but a sidecar saying so: it is an empty shard, and its rejects count.
"""

from __future__ import annotations

import heapq
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ekt_curate.errors import EktError
from ekt_curate.jsonl import LineWriter, check_output_file, open_input
from ekt_curate.provenance import read_meta, write_meta

# Shards verified with different values of these are different experiments, never one file.
SAME_SETTINGS = ("input", "policy", "answer", "rel_tol", "gold_precision", "checker", "problems", "prelude",
                 "fields")


def _keyed(path: Path, key: str) -> Iterator[tuple[tuple[int, int], int, bytes, dict[str, Any]]]:
    """(position, file line, bytes, record); the position is (input line, choice), -1 for a line
    that is one sample, so the choices of one response stay in their order."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.endswith(b"\n"):
                raise EktError(f"{path}:{number}: incomplete last line; finish the shard with --resume first")
            try:
                record = json.loads(line)
                entry = record["verdict"] if key == "verdict" else record
                choice = entry.get("choice")
                position = (int(entry["line"]), choice if isinstance(choice, int) else -1)
            except (ValueError, KeyError, TypeError, AttributeError):
                raise EktError(f"{path}:{number}: not a line written by verify") from None
            yield position, number, line, record


def merge_files(paths: list[Path], output: Path, key: str,
                seen: Callable[[dict[str, Any]], None] = lambda record: None) -> int:
    """Merge files each sorted by input line; refuse duplicates. Returns the lines written."""
    streams = [_keyed(path, key) for path in paths]
    written, previous = 0, (0, -1)
    writer = LineWriter(output)
    try:
        for position, _, line, record in heapq.merge(*streams, key=lambda entry: entry[0]):
            if position == previous:
                choice = f", choice {position[1]}" if position[1] >= 0 else ""
                raise EktError(f"input line {position[0]}{choice} appears in more than one shard")
            previous = position
            writer.write_line(line)  # verify's own bytes: merged output equals an unsharded run
            seen(record)
            written += 1
    finally:
        writer.close()
    return written


def check_shards(shards: list[Path], metas: list[dict[str, Any] | None], allow_partial: bool,
                 warn: Callable[[str], None]) -> None:
    """Every shard of one verify run, each once, verified alike; else one clear line."""
    for shard, meta in zip(shards, metas):
        if meta is None or meta.get("stage") != "verify":
            problem = f"{shard}: no verify sidecar ({shard.name}.meta.json), so which shard it is is unknown"
            if not allow_partial:
                raise EktError(problem + "; pass --allow-partial to merge anyway")
            warn(f"warning: {problem}")
            return
        if not meta.get("shard"):
            raise EktError(f"{shard}: not a shard (verify ran without --shard); nothing to merge")
        if meta.get("complete") is False:  # stopped (Ctrl-C, SIGTERM, full disk): its lines are a prefix
            problem = f"{shard}: its verify run did not finish (sidecar says complete: false)"
            if not allow_partial:
                raise EktError(problem + "; finish it with 'verify --resume', or pass --allow-partial")
            warn(f"warning: {problem}; the merged file is partial")
    first = metas[0]
    assert first is not None
    for shard, meta in zip(shards[1:], metas[1:]):
        assert meta is not None
        for setting in SAME_SETTINGS:
            if meta.get(setting) != first.get(setting):
                raise EktError(f"{shards[0]} and {shard} were verified with different {setting} "
                               f"({first.get(setting)!r} vs {meta.get(setting)!r}); they cannot be one file")
    counts = {int(meta["shard"][1]) for meta in metas if meta is not None}
    if len(counts) > 1:
        split = ", ".join(f"{shard} is {meta['shard'][0]}/{meta['shard'][1]}" for shard, meta in zip(shards, metas)
                          if meta is not None)
        raise EktError(f"shards of different splits: {split}")
    count = counts.pop()
    by_index: dict[int, Path] = {}
    for shard, meta in zip(shards, metas):
        assert meta is not None
        index = int(meta["shard"][0])
        if index in by_index:
            raise EktError(f"shard {index}/{count} given twice: {by_index[index]} and {shard}")
        by_index[index] = shard
    missing = sorted(set(range(count)) - set(by_index))
    if missing:
        problem = f"shard(s) {', '.join(f'{i}/{count}' for i in missing)} missing ({len(by_index)} of {count} given)"
        if not allow_partial:
            raise EktError(problem + "; pass --allow-partial to merge what there is")
        warn(f"warning: {problem}; the merged file is partial")


def empty_shard(shard: Path, meta: dict[str, Any] | None) -> bool:
    """True for a shard verify wrote no output lines for: every line of it was rejected. Its sidecar
    says so (``samples: 0``); without one a missing or empty file stays an error."""
    if shard.is_file() and shard.stat().st_size:
        return False
    return bool(meta and meta.get("stage") == "verify" and meta.get("shard") and meta.get("samples") == 0)


def run_merge(shards: list[Path], output: Path, overwrite: bool = False, allow_partial: bool = False,
              warn: Callable[[str], None] = lambda message: print(message, file=sys.stderr),
              extra: dict[str, Any] | None = None) -> tuple[int, int]:
    """Merge ``shards`` into ``output`` (and their rejects); returns (samples, rejected lines).
    ``extra``: more keys for the merged sidecar (the distributed run's description)."""
    metas = [read_meta(shard) for shard in shards]
    for shard, meta in zip(shards, metas):
        if not empty_shard(shard, meta):
            open_input(shard)
    rejects_out = output.with_name(output.name.removesuffix(".jsonl") + ".rejects.jsonl")
    if any(output.resolve() == shard.resolve() for shard in shards):
        raise EktError(f"{output}: the output would overwrite a shard")
    check_output_file(output)
    check_shards(shards, metas, allow_partial, warn)
    for path in (output, rejects_out):
        if path.exists():
            if not overwrite:
                raise EktError(f"{path} already exists: pass --overwrite to replace it")
            path.unlink()
    statuses: Counter[str] = Counter()
    tasks: set[str] = set()
    passed: set[str] = set()

    def seen(record: dict[str, Any]) -> None:
        statuses[str(record["verdict"].get("status"))] += 1
        tasks.add(str(record.get("task_id")))
        if record["verdict"].get("passed"):
            passed.add(str(record.get("task_id")))

    samples = merge_files([shard for shard in shards if shard.is_file()], output, "verdict", seen)
    output.touch()  # every shard empty: the merged file is still there, empty
    shard_rejects = [p for p in (s.with_name(s.name.removesuffix(".jsonl") + ".rejects.jsonl") for s in shards)
                     if p.exists()]
    rejects = merge_files(shard_rejects, rejects_out, "line") if shard_rejects else 0
    known = [meta for meta in metas if meta is not None]
    settings = {key: known[0].get(key) for key in (*SAME_SETTINGS, "ekt_curate_version")} if known else {}
    write_meta(output, "merge", {
        **settings, "lines": samples + rejects, "samples": samples, "rejected": rejects,
        "statuses": dict(sorted(statuses.items())), "tasks": len(tasks), "tasks_passed": len(passed),
        "shard_files": [str(shard) for shard in shards], "shards": metas,
        # the shards share one input, so one upstream (the sample stage's sidecar) for all
        "upstream": known[0].get("upstream") if known else None, **(extra or {}),
    })
    return samples, rejects
