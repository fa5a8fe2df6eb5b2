"""JSON Lines I/O for long, resumable jobs: streaming reads with line numbers,
whole-line appends, and repair of a last line torn by a kill."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ekt_curate.errors import EktError, InputError, OutputError


def dumps(record: dict[str, Any]) -> bytes:
    """One canonical line: field order kept, no ASCII escaping, so output is byte-stable.
    A lone surrogate (from a ``\\ud800`` escape, or a program's message) has no UTF-8 form: such a
    line is written with ASCII escapes instead, valid JSON that reads back to the same strings."""
    text = json.dumps(record, ensure_ascii=False, separators=(", ", ": "))
    try:
        return text.encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        return json.dumps(record, ensure_ascii=True, separators=(", ", ": ")).encode("ascii") + b"\n"


def open_input(path: Path) -> Path:
    """Check an input file exists, is a file, is readable and is not empty."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a file")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: not readable")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    return path


def check_output_file(path: Path, option: str = "-o") -> Path:
    """One line (exit 2) for an output path that cannot be a file, before any work is done."""
    if path.is_dir():
        raise EktError(f"{option} {path}: is a folder; give a file name")
    if not path.parent.is_dir():
        raise EktError(f"{option} {path}: the folder {path.parent} does not exist")
    return path


def count_lines(path: Path) -> int:
    count, last = 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def iter_lines(path: Path, start_after: int = 0) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, raw bytes without the newline), streaming."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if number > start_after:
                yield number, line.rstrip(b"\r\n")


def follow_lines(path: Path, done: Callable[[], bool], start_after: int = 0,
                 poll: float = 0.05) -> Iterator[tuple[int, bytes]]:
    """Like iter_lines, for a file another thread is still appending to: yields only complete
    lines, waits at the end until ``done()`` says the writer has finished."""
    with path.open("rb") as handle:
        number, pending = 0, b""
        while True:
            chunk = handle.readline()
            if chunk:
                pending += chunk
                if not pending.endswith(b"\n"):
                    continue  # a line still being written
                number += 1
                line, pending = pending, b""
                if number > start_after:
                    yield number, line.rstrip(b"\r\n")
                continue
            if done():
                rest = handle.read()
                if not rest:
                    if pending:
                        number += 1
                        yield number, pending.rstrip(b"\r\n")
                    return
                handle.seek(-len(rest), 1)
                continue
            time.sleep(poll)


class LineWriter:
    """Appends whole lines with one write() each, so a kill leaves at most one torn line.

    A failed write (disk full, quota) cuts the file back to where the line began and raises
    OutputError: the file stays whole lines, so ``--resume`` continues exactly once there is room.
    Only correct with one writer per file, which the stages' OutputLock makes sure of."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None
        self._size = 0  # where the next line begins

    def write(self, record: dict[str, Any]) -> None:
        self.write_line(dumps(record))

    def write_line(self, line: bytes) -> None:
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
                self._size = os.fstat(self._fd).st_size
            except OSError as exc:
                raise OutputError(f"{self.path}: cannot write: {exc.strerror}") from None
        data = memoryview(line)
        try:
            while data:
                data = data[os.write(self._fd, data):]
        except OSError as exc:
            try:
                os.ftruncate(self._fd, self._size)  # frees what the torn line took
            except OSError:
                pass  # then repair_tail cuts it on --resume
            raise OutputError(f"{self.path}: cannot write: {exc.strerror}") from None
        self._size += len(line)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def repair_tail(path: Path) -> None:
    """Cut a trailing line that has no newline (a write interrupted by kill -9)."""
    if not path.exists():
        return
    size = path.stat().st_size
    if size == 0:
        return
    with path.open("rb+") as handle:
        handle.seek(-1, os.SEEK_END)
        if handle.read(1) == b"\n":
            return
        position = size
        while position > 0:
            step = min(65536, position)
            handle.seek(position - step)
            chunk = handle.read(step)
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                handle.truncate(position - step + cut + 1)
                return
            position -= step
        handle.truncate(0)


def iter_records(path: Path) -> Iterator[dict[str, Any]]:
    """Complete JSON records of a file we wrote (after repair_tail)."""
    with path.open("rb") as handle:
        for line in handle:
            yield json.loads(line)
