"""The rich terminal view of stats: the same numbers as the HTML page, as tables."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from ekt_curate.stats.collect import PASS_RATE_BINS, Stats
from ekt_curate.stats.curation import yield_lines


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _count(count: int, total: int) -> str:
    return f"{count:,} ({_share(count / total if total else 0)})" if count else "-"


def print_stats(runs: list[Stats], names: list[str], stream: TextIO | None = None,
                curation: dict[str, Any] | None = None) -> None:
    """With ``curation`` (the second run is curated from the first) the second run is shown as the
    yield of curation: its pass@k, statuses and pass rates are 100% by construction."""
    from rich.console import Console
    from rich.markup import escape  # a task id is data, never markup
    from rich.table import Table

    console = Console(file=stream or sys.stdout)  # sys.stdout now, not at import (tests swap it)
    everything, names_of_all = runs, names
    if curation is not None:
        runs, names = runs[:1], names[:1]
    summary = Table(title="stats", title_justify="left")
    summary.add_column("metric")
    for name in names:
        summary.add_column(name, justify="right")
    rows: list[tuple[str, list[str]]] = [
        ("tasks", [f"{r.tasks:,}" for r in runs]), ("samples", [f"{r.samples:,}" for r in runs])]
    for k in runs[0].pass_at_k():
        rows.append((f"pass@{k}", [_share(r.pass_at_k().get(k)) for r in runs]))
    rows += [("coverage (tasks with a pass)", [_share(r.coverage) for r in runs]),
             ("per-sample accuracy", [_share(r.accuracy) for r in runs]),
             *([("duplicates removed", [_share(r.duplicates_ratio()) for r in runs])]
               if any(r.duplicates_ratio() is not None for r in runs) else []),
             ("tasks with a non-numeric gold", [f"{r.gold_not_numeric_tasks:,}" for r in runs])]
    for label, values in rows:
        summary.add_row(label, *values)
    console.print(summary)
    if curation is not None:
        kept = Table(title=f"curation: {escape(names_of_all[1])} from {escape(names[0])}", title_justify="left")
        kept.add_column("yield")
        kept.add_column(escape(names_of_all[1]))
        for label, shown in yield_lines(curation):
            kept.add_row(label, escape(shown))
        console.print(kept)
        console.print(f"[dim]pass@k of {escape(names_of_all[1])} not shown: it is curated from {escape(names[0])} "
                      f"({escape(curation['why'])}), so its pass rates say what curation kept, not what the "
                      f"model does[/]")
    for name, run in zip(names, runs):
        for k, missing in run.not_computable().items():
            console.print(f"[dim]{name}: pass@{k} not computable: {missing:,} tasks have fewer than {k} samples[/]")
        if run.gold_not_numeric_tasks:
            console.print(f"[yellow]{name}: {run.gold_not_numeric_tasks:,} tasks have a gold that is not a number while "
                          f"their answers are (e.g. {escape(repr(run.gold_not_numeric_example()))}); they cannot pass under "
                          f"--checker strict (LaTeX golds: --checker math-verify)[/]")
        if run.invalid_lines:
            console.print(f"[yellow]{name}: {run.invalid_lines:,} lines without a verdict were skipped[/]")

    statuses = sorted({s for r in runs for s in r.statuses}, key=lambda s: (s != "pass", s != "wrong_answer", s))
    table = Table(title="samples by status", title_justify="left")
    table.add_column("status")
    for name in names:
        table.add_column(name, justify="right")
    for status in statuses:
        table.add_row(status, *[_count(r.statuses.get(status, 0), r.samples) for r in runs])
    console.print(table)

    distribution = Table(title="tasks by pass rate", title_justify="left")
    distribution.add_column("pass rate")
    for name in names:
        distribution.add_column(name, justify="right")
    histograms = [r.pass_rate_histogram() for r in runs]
    for index, label in enumerate(PASS_RATE_BINS):
        distribution.add_row(label, *[f"{h[index]:,}" for h in histograms])
    console.print(distribution)

    failures = Table(title="most common failures", title_justify="left")
    for column in ("run", "status", "detail"):
        failures.add_column(column)
    failures.add_column("samples", justify="right")
    for name, run in zip(names_of_all, everything):
        for status, detail, count in run.top_failures():
            failures.add_row(name, status, detail, f"{count:,}")
    console.print(failures)

    spread = Table(title="distributions", title_justify="left")
    spread.add_column("run")
    for column in ("lines p50", "p90", "p99", "CPU ms p50", "p90", "p99"):
        spread.add_column(column, justify="right")
    for name, run in zip(names_of_all, everything):
        lines, cpu = run.percentiles(run.program_lines), run.percentiles(run.cpu_ms)
        spread.add_row(name, *[f"{lines.get(p, 0):.0f}" for p in ("p50", "p90", "p99")],
                       *[f"{cpu.get(p, 0):.1f}" for p in ("p50", "p90", "p99")])
    console.print(spread)
