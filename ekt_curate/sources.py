"""Where records come from: a JSON Lines, parquet or CSV file, a dataset folder, or a Hub dataset.

    samples.jsonl                     JSON Lines (a UTF-8 BOM and blank lines are tolerated)
    samples.json                      or one JSON document: an array of records, or records
                                      pretty-printed one after another (`jq .` output); read whole
    data.parquet, data.csv, data.tsv  one record per row
    datasets_out/NAME[:SPLIT]         a folder `datasets.load_dataset` reads (split default: train)
    hf:ORG/NAME[:CONFIG[:SPLIT]]      a Hub dataset, streamed (config default: the dataset's; split: train)

Every source yields ``(position, raw)`` pairs: for JSON Lines the 1-based line number and
the line's bytes; for the others the 1-based row index and the row as one JSON line. Verify's
resume counts these positions, so it is exact for every kind. ``hf:`` is explicit so that a
mistyped local path is never sent to the network. Parquet, CSV, folders and the Hub go through
`datasets` (streaming, so a large dataset is never held in memory), imported only here.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ekt_curate.errors import HubError, InputError
from ekt_curate.jsonl import open_input

BOM = b"\xef\xbb\xbf"
JSON_SUFFIXES = (".jsonl", ".json", ".ndjson")
TABLE_SUFFIXES = {".parquet": "parquet", ".csv": "csv", ".tsv": "csv"}


@dataclass(frozen=True)
class Source:
    kind: str                  # jsonl | json | parquet | csv | folder | hub
    location: str              # a path, or the Hub repository id
    config: str | None = None  # Hub dataset config (subset)
    split: str = "train"

    @property
    def label(self) -> str:
        """How messages and derived task ids name this source."""
        if self.kind == "hub":
            return f"{self.location}:{self.config or 'default'}:{self.split}"
        if self.kind == "folder":
            return f"{self.location}:{self.split}"
        return self.location

    @property
    def path(self) -> Path | None:
        return None if self.kind == "hub" else Path(self.location)

    @property
    def stem(self) -> str:
        """A file-name stem for outputs written next to (or, for the Hub, instead of) the input."""
        if self.kind == "hub":
            return self.label.replace("/", "--").replace(":", "-")
        name = Path(self.location).name
        for suffix in (*JSON_SUFFIXES, *TABLE_SUFFIXES):
            name = name.removesuffix(suffix)
        return name if self.kind != "folder" or self.split == "train" else f"{name}-{self.split}"


def parse_source(text: str | Path) -> Source:
    """Recognise a source from its text and, for files, from their first bytes."""
    text = str(text)
    if text.startswith("hf:"):
        repo, _, rest = text[3:].partition(":")
        config, _, split = rest.partition(":")
        if repo.count("/") != 1 or not all(repo.split("/")):
            raise InputError(f"{text}: a Hub dataset is hf:ORG/NAME[:CONFIG[:SPLIT]]")
        return Source("hub", repo, config or None, split or "train")
    path = Path(text)
    if not path.exists() and ":" in path.name:  # a folder with a split: datasets_out/NAME:test
        folder, _, split = text.rpartition(":")
        if Path(folder).is_dir():
            return Source("folder", folder, split=split or "train")
    if path.is_dir():
        return Source("folder", text)
    open_input(path)
    kind = TABLE_SUFFIXES.get(path.suffix.lower(), "jsonl")
    if kind == "jsonl":
        kind = _sniff(path)
    return Source(kind, text)


def _sniff(path: Path) -> str:
    """A parquet file under any name is read as parquet; CSV or binary data given as JSON Lines is
    refused with one line, never turned into thousands of 'not JSON' rejects."""
    with path.open("rb") as handle:
        head = handle.read(4)
        if head == b"PAR1":
            return "parquet"
        if head[:2] == b"\x1f\x8b":
            raise InputError(f"{path}: gzip-compressed; decompress it first (gunzip -k {path})")
        handle.seek(0)
        first = b""
        for line in handle:
            first = line.removeprefix(BOM).strip()
            if first:
                break
    if not first:
        raise InputError(f"{path}: no records (only blank lines)")
    try:
        value = json.loads(first)
    except ValueError:
        if first[:1] in (b"{", b"["):  # a JSON document spread over lines: pretty-printed, or an array
            _json_records(path)  # a broken document is one line now, before any output is touched
            return "json"
    else:
        return "json" if isinstance(value, list) else "jsonl"
    if b"," in first or b"\t" in first:
        raise InputError(f"{path}: looks like CSV, not JSON Lines (first line {first[:60].decode('utf-8', 'replace')!r});"
                         f" name it .csv (or .tsv) to read it as a table")
    raise InputError(f"{path}: not JSON Lines (the first line is not JSON: {first[:60].decode('utf-8', 'replace')!r})")


def iter_raw(source: Source, start_after: int = 0) -> Iterator[tuple[int, bytes]]:
    """(position, raw JSON bytes) from position ``start_after + 1`` on, in a fixed order."""
    if source.kind == "jsonl":
        with open(source.location, "rb") as handle:
            for number, line in enumerate(handle, 1):
                if number == 1:
                    line = line.removeprefix(BOM)
                if number > start_after and line.strip():
                    yield number, line.rstrip(b"\r\n")
        return
    if source.kind == "json":
        for number, record in enumerate(_json_records(Path(source.location)), 1):
            if number > start_after:
                yield number, json.dumps(record, ensure_ascii=False).encode("utf-8")
        return
    rows = _load(source)
    if start_after:
        rows = rows.skip(start_after)
    iterator = iter(rows)
    number = start_after
    while True:
        try:
            row = next(iterator)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001 - a stream can fail midway (network, a corrupt file)
            raise _one_line(source, exc) from None
        number += 1
        yield number, json.dumps(row, ensure_ascii=False, default=str).encode("utf-8")


def iter_records(source: Source) -> Iterator[tuple[int, dict[str, Any] | None, bytes]]:
    """(position, record or None when the row is not a JSON object, raw)."""
    for number, raw in iter_raw(source):
        try:
            record = json.loads(raw)
        except ValueError:
            record = None
        yield number, record if isinstance(record, dict) else None, raw


def count(source: Source) -> int:
    """Positions in the source (0 when unknown without reading a streamed dataset through)."""
    if source.kind == "jsonl":
        from ekt_curate.jsonl import count_lines

        return count_lines(Path(source.location))
    if source.kind == "json":
        return len(_json_records(Path(source.location)))
    if source.kind == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(source.location).metadata.num_rows)
    return 0


def _json_records(path: Path) -> list[Any]:
    """The records of one JSON document: an array's items, or each of the values written one after
    another (pretty-printed objects). Read whole: a file too large for memory belongs in JSON Lines.
    Parsed once per file version: sniffing, counting and reading ask in turn."""
    stat = path.stat()
    return _parse_json_document(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=2)
def _parse_json_document(location: str, mtime_ns: int, size: int) -> list[Any]:
    path = Path(location)
    text = path.read_bytes().removeprefix(BOM).decode("utf-8", "replace")
    decoder, values, at = json.JSONDecoder(), [], 0
    while (at := json.decoder.WHITESPACE.match(text, at).end()) < len(text):
        try:
            value, at = decoder.raw_decode(text, at)
        except ValueError as exc:
            line = text.count("\n", 0, getattr(exc, "pos", at)) + 1
            raise InputError(f"{path}: not JSON Lines, and not one JSON document either "
                             f"(line {line}: {getattr(exc, 'msg', exc)})") from None
        values.append(value)
    return values[0] if len(values) == 1 and isinstance(values[0], list) else values


def _load(source: Source) -> Any:
    """A streamed ``datasets.IterableDataset``; every failure becomes one line."""
    import datasets

    if source.kind == "hub":
        args: tuple[Any, ...] = (source.location, source.config)
        kwargs: dict[str, Any] = {}
    elif source.kind == "folder":
        args, kwargs = (source.location,), {}
    else:
        args, kwargs = (source.kind,), {"data_files": source.location}
        if Path(source.location).suffix.lower() == ".tsv":
            kwargs["sep"] = "\t"
    datasets.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    try:
        return datasets.load_dataset(*args, split=source.split, streaming=True, **kwargs)
    except Exception as exc:  # noqa: BLE001 - datasets raises many kinds; each must be one line
        raise _one_line(source, exc) from None


def _one_line(source: Source, exc: Exception) -> Exception:
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return HubError(f"{source.label}: cannot reach the Hugging Face Hub ({_first_line(exc)}); "
                        f"check the network, or use a local copy")
    if source.kind == "hub" and not isinstance(exc, ValueError):  # not found, gated, refused
        return HubError(f"{source.label}: cannot load the dataset ({type(exc).__name__}: {_first_line(exc)})")
    return InputError(f"{source.label}: cannot read ({type(exc).__name__}: {_first_line(exc)})")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
