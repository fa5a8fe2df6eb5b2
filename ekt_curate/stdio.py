"""``-`` for standard input and output, so a stage can sit in a shell pipe:

    cat samples.jsonl | ekt-curate verify - -o - | ekt-curate dedup - -o - > curated.jsonl

Stages read and write files: they resume, lock their output and write a sidecar beside it.
So standard input is first copied to a file in a private temporary folder (then read as any
file is: JSON Lines, or a JSON array), and an output of ``-`` is written there and copied to
standard output when the stage ends, whole lines only. What the stage writes beside its output
(rejected lines, dropped records) is never lost with the temporary folder: it is moved to where
that file would have gone without ``-`` (next to the input file, or the current folder for
standard input) and named on standard error. ``--resume`` has no meaning for a pipe.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ekt_curate.errors import EktError

STDIN_NAME = "stdin.jsonl"  # the spooled copy; a derived output is stdin.verified.jsonl, and so on
DASH = Path("-")
STDOUT_SHOWN = Path("/dev/stdout")  # how a summary names an output that went to standard output


@dataclass
class Streams:
    """What the command should pass to its stage, and what to do once it has run."""
    input: Path
    output: Path | None
    to_stdout: bool = False
    beside: Path = field(default_factory=Path)  # where the files beside an output to stdout go

    @property
    def summary_stream(self):  # a summary on stdout would be read as records by the next command
        return sys.stderr if self.to_stdout else sys.stdout


@contextmanager
def standard_streams(input_path: Path, output: Path | None, suffix: str, companions: tuple[str, ...], *,
                     resume: bool = False, overwrite: bool = False) -> Iterator[Streams]:
    """Stand in files for ``-``; on a clean exit copy the output to stdout and keep its companions.
    An input of ``-`` without ``-o`` writes to standard output, as a filter does. ``suffix`` is
    the stage's own output suffix (``.verified.jsonl``) and ``companions`` what it writes beside
    (``.rejects.jsonl``): the staged files are named as the stage would name them."""
    from_stdin, to_stdout = input_path == DASH, output == DASH or (input_path == DASH and output is None)
    if not from_stdin and not to_stdout:
        yield Streams(input_path, output)
        return
    if resume:
        raise EktError("--resume reads what an earlier run wrote to its output file; with '-' there is none")
    beside = Path.cwd() if from_stdin else input_path.parent
    with spooled_input(input_path) as input_path, tempfile.TemporaryDirectory(prefix="ekt-curate-") as folder:
        staged = output
        if to_stdout:
            name = input_path.name.removesuffix(".jsonl") + suffix
            for companion in companions:  # found before any work, not after it
                target = beside / (name.removesuffix(".jsonl") + companion)
                if target.exists() and not overwrite:
                    raise EktError(f"{target} already exists (it would receive this run's lines beside its output "
                                   f"to stdout); pass --overwrite to replace it")
            staged = Path(folder) / name
        streams = Streams(input_path, staged, to_stdout=to_stdout, beside=beside)
        yield streams
        if to_stdout:
            _deliver(streams)


@contextmanager
def spooled_input(input_path: Path) -> Iterator[Path]:
    """For a command that only reads: ``-`` becomes a private copy of standard input."""
    if input_path != DASH:
        yield input_path
        return
    with tempfile.TemporaryDirectory(prefix="ekt-curate-") as folder:
        yield _spool_stdin(Path(folder) / STDIN_NAME)


def _spool_stdin(target: Path) -> Path:
    if sys.stdin is None or sys.stdin.isatty():
        raise EktError("input '-' reads standard input, which is a terminal: pipe records in "
                       "(cat samples.jsonl | ekt-curate verify -)")
    with target.open("wb") as handle:
        shutil.copyfileobj(sys.stdin.buffer, handle, 1 << 20)
    if target.stat().st_size == 0:
        raise EktError("standard input: no records (it was empty)")
    return target


def _deliver(streams: Streams) -> None:
    """Copy the staged output to stdout; move every other file the stage wrote to ``beside``."""
    assert streams.output is not None
    for companion in sorted(streams.output.parent.iterdir()):
        if companion == streams.output or companion.name.endswith((".meta.json", ".lock")):
            continue  # the output goes to stdout; its sidecar describes a file that is not kept
        target = streams.beside / companion.name
        shutil.move(str(companion), target)
        print(f"ekt-curate: {_kind(companion.name)} lines written to {target}", file=sys.stderr)
    if streams.output.exists():
        with streams.output.open("rb") as handle:
            shutil.copyfileobj(handle, sys.stdout.buffer, 1 << 20)
    sys.stdout.buffer.flush()


def _kind(name: str) -> str:
    return {"rejects": "rejected", "dropped": "dropped"}.get(name.split(".")[-2], "other")
