"""Terminal views: progress while a stage runs, a summary table when it ends (rich)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from ekt_curate.stages.dedup import DedupSummary
from ekt_curate.stages.sample import SampleSummary
from ekt_curate.stages.verify import VerifySummary

STATUS_ORDER = ("pass", "wrong_answer", "syntax_error", "runtime_error", "timeout", "memory_limit",
                "output_limit", "killed", "no_answer", "no_program", "sandbox_error", "bad_gold")


class PlainProgress:
    """For logs (no terminal): one line every `every` seconds, and one at the end."""

    def __init__(self, label: str, total: int, done: int, stream: TextIO, every: float = 10.0, unit: str = "lines"):
        self.label, self.total, self.done, self.stream, self.every = label, total, done, stream, every
        self.unit = unit
        self.start_done, self.started, self.last = done, time.monotonic(), 0.0
        self.tokens = 0

    def advance(self, count: int, tokens: int = 0) -> None:
        self.done += count
        self.tokens += tokens
        now = time.monotonic()
        if now - self.last >= self.every or self.done >= self.total:
            self.last = now
            elapsed = max(now - self.started, 1e-9)
            rate = (self.done - self.start_done) / elapsed
            eta = (self.total - self.done) / rate if rate > 0 else 0
            share = 100 * self.done / self.total if self.total else 100
            speed = f", {self.tokens / elapsed:,.0f} tokens/s" if self.tokens else ""
            print(f"{self.label}: {self.done:,}/{self.total:,} {self.unit} ({share:.1f}%), {rate:,.0f}/s{speed}, "
                  f"ETA {_duration(eta)}", file=self.stream, flush=True)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


class ProgressFactory:
    """Gives a stage its progress callback: a rich bar on a terminal, plain lines otherwise."""

    def __init__(self, label: str, enabled: bool = True, stream: TextIO = sys.stderr, unit: str = "lines"):
        self.label, self.enabled, self.stream, self.unit = label, enabled, stream, unit
        self._rich = None

    def __call__(self, total: int, done: int) -> Callable[..., None]:
        if not self.enabled:
            return lambda count, tokens=0: None
        if not self.stream.isatty():
            return PlainProgress(self.label, total, done, self.stream, unit=self.unit).advance
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._rich = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                              TextColumn("[cyan]{task.fields[rate]}"),
                              TimeRemainingColumn(), console=Console(file=self.stream), transient=False)
        self._rich.start()
        task = self._rich.add_task(self.label, total=total, completed=done, rate="")
        started, first = time.monotonic(), done
        state = {"done": done, "shown": 0.0, "tokens": 0}

        def advance(count: int, tokens: int = 0) -> None:
            state["done"] += count
            state["tokens"] += tokens
            now = time.monotonic()
            if now - state["shown"] > 0.1 or state["done"] >= total:
                state["shown"] = now
                elapsed = max(now - started, 1e-9)
                rate = f"{(state['done'] - first) / elapsed:,.0f} {self.unit}/s"
                if state["tokens"]:
                    rate += f", {state['tokens'] / elapsed:,.0f} tokens/s"
                self._rich.update(task, completed=state["done"], rate=rate)  # type: ignore[union-attr]

        return advance

    def close(self) -> None:
        if self._rich is not None:
            self._rich.stop()
            self._rich = None

    def __enter__(self) -> "ProgressFactory":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def print_verify_summary(summary: VerifySummary, stream: TextIO | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=stream or sys.stdout)  # sys.stdout now, not at import (tests swap it)
    samples = summary.samples
    table = Table(title="verify", title_justify="left")
    table.add_column("status")
    table.add_column("samples", justify="right")
    table.add_column("share", justify="right")
    ordered = [s for s in STATUS_ORDER if s in summary.statuses] + sorted(set(summary.statuses) - set(STATUS_ORDER))
    for status in ordered:
        count = summary.statuses[status]
        style = "green" if status == "pass" else ("yellow" if status == "wrong_answer" else "red")
        table.add_row(f"[{style}]{status}[/]", f"{count:,}", f"{100 * count / samples:.1f}%" if samples else "-")
    if summary.rejected:
        table.add_row("[magenta]rejected input lines[/]", f"{summary.rejected:,}", "")
    console.print(table)
    rate = summary.processed / summary.seconds if summary.seconds > 0 else 0.0
    passed = summary.statuses.get("pass", 0)
    lines = [
        f"pass rate: [bold]{100 * passed / samples:.1f}%[/] of {samples:,} samples" if samples else "no samples",
        f"tasks with at least one pass: [bold]{len(summary.tasks_passed):,}[/] of {len(summary.tasks):,}",
        f"throughput: {rate:,.0f} lines/s ({summary.processed:,} lines in {summary.seconds:.1f} s"
        + (f"; {summary.resumed:,} done by an earlier run)" if summary.resumed else ")"),
        f"output: {summary.output}" if summary.output.exists() else "output: none written (no line was verified)",
    ]
    if summary.rejected:
        reasons = ", ".join(f"{reason} ({count})" for reason, count in summary.reject_reasons.most_common())
        lines.append(f"rejects: {summary.rejects} — {reasons}")
    for line in lines:
        console.print(line, highlight=False)


def print_dedup_summary(summary: DedupSummary, stream: TextIO | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=stream or sys.stdout)  # sys.stdout now, not at import (tests swap it)
    table = Table(title="dedup", title_justify="left")
    table.add_column("records")
    table.add_column("count", justify="right")
    table.add_row("[green]kept[/]", f"{summary.kept:,}")
    for reason in ("not_passed", "exact_duplicate", "near_duplicate", "max_per_task", "invalid_line"):
        if summary.dropped.get(reason):
            table.add_row(f"dropped: {reason}", f"{summary.dropped[reason]:,}")
    table.add_row("read", f"{summary.read:,}")
    console.print(table)
    dropped = f"; dropped records with reasons: {summary.dropped_path}" if summary.dropped_path.exists() else ""
    console.print(f"{summary.tasks:,} tasks in {summary.seconds:.1f} s; output: {summary.output}{dropped}",
                  highlight=False)


def print_sample_summary(summary: SampleSummary, stream: TextIO | None = None) -> None:
    from rich.console import Console

    console = Console(file=stream or sys.stdout)  # sys.stdout now, not at import (tests swap it)
    console.print(f"sample: {summary.written:,} new samples for {summary.problems:,} problems"
                  + (f" ({summary.already:,} already there)" if summary.already else "")
                  + f", {summary.tokens:,} tokens in {summary.seconds:.1f} s ({summary.tokens_per_second:,.0f} tokens/s)",
                  highlight=False)
    if summary.excluded:
        console.print(f"left out {len(summary.excluded)} exemplar problems of the prompt", highlight=False)
    console.print(f"output: {summary.output}", highlight=False)
