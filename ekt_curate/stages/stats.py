"""`ekt-curate stats`: pass@k, coverage and distributions, in the terminal, as JSON, as HTML."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ekt_curate.errors import EktError


def parse_ks(text: str) -> tuple[int, ...]:
    try:
        ks = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise EktError(f"--k takes comma-separated integers, e.g. 1,10,100; got {text!r}") from None
    if not ks or any(k < 1 for k in ks):
        raise EktError(f"--k values must be positive integers, got {text!r}")
    return ks


def task_overlap(first: dict[str, object], second: dict[str, object]) -> dict[str, int]:
    shared = len(first.keys() & second.keys())
    return {"shared": shared, "only_first": len(first) - shared, "only_second": len(second) - shared}


def run_stats(path: Path, ks: tuple[int, ...], compare: Path | None = None, json_path: Path | None = None,
              html_path: Path | None = None, show: bool = True) -> list:
    from ekt_curate.stats.collect import collect

    from ekt_curate.jsonl import check_output_file

    for option, target in (("--json", json_path), ("--html", html_path)):
        if target is not None:
            check_output_file(target, option)  # before the work, not a traceback after it
    runs = [collect(path, ks)]
    names = [path.name]
    if compare is not None:
        runs.append(collect(compare, ks))
        names.append(compare.name if compare.name != path.name else str(compare))
    if runs[0].samples == 0:
        raise EktError(f"{path}: no verified samples (is it the output of 'ekt-curate verify'?)")
    overlap = task_overlap(runs[0].per_task, runs[1].per_task) if compare is not None else None
    if overlap and (overlap["only_first"] or overlap["only_second"]):
        # pass@k and coverage of two different problem sets are not comparable: say so plainly.
        print(f"note: {names[0]} and {names[1]} cover different tasks ({overlap['shared']:,} in both, "
              f"{overlap['only_first']:,} only in the first, {overlap['only_second']:,} only in the second); "
              f"each column is over its own tasks", file=sys.stderr)
    if json_path is not None:
        data = runs[0].to_json()
        if compare is not None:
            data["compare"] = runs[1].to_json()
            data["compare_tasks"] = overlap
        json_path.write_text(json.dumps(data, indent=2) + "\n")
    if html_path is not None:
        from ekt_curate.stats.html import render

        html_path.write_text(render(runs, names), encoding="utf-8")
    if show:
        from ekt_curate.stats.terminal import print_stats

        print_stats(runs, names)
    return runs
