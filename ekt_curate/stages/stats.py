"""`ekt-curate stats`: pass@k, coverage and distributions, in the terminal, as JSON, as HTML."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ekt_curate.errors import EktError


def parse_ks(text: str | None) -> tuple[int, ...] | None:
    """--k as given; None (no --k) leaves the choice to the samples per task (run_stats)."""
    if text is None:
        return None
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


def run_stats(path: Path, ks: tuple[int, ...] | None, compare: Path | None = None, json_path: Path | None = None,
              html_path: Path | None = None, show: bool = True) -> list:
    """ks None: those of 1, 10, 100 every task has samples for. A ``compare`` file curated from
    ``path`` (dedup's output) is shown as the yield of curation instead of a second pass@k."""
    from ekt_curate.jsonl import check_output_file
    from ekt_curate.stats.collect import collect
    from ekt_curate.stats.curation import curated_from, curation_yield, dedup_drops, fit_ks, provenance

    for option, target in (("--json", json_path), ("--html", html_path)):
        if target is not None:
            check_output_file(target, option)  # before the work, not a traceback after it
    runs = [collect(path)]
    names = [path.name]
    if compare is not None:
        runs.append(collect(compare))
        names.append(compare.name if compare.name != path.name else str(compare))
    if runs[0].samples == 0:
        raise EktError(f"{path}: no verified samples (is it the output of 'ekt-curate verify'?)")
    why = curated_from(runs[0], runs[1]) if compare is not None else None
    curation = curation_yield(runs[0], runs[1], why) if why else None
    for run in runs:
        run.ks = ks if ks is not None else fit_ks(runs[:1] if curation else runs)
    overlap = task_overlap(runs[0].per_task, runs[1].per_task) if compare is not None else None
    note = None
    if overlap and not curation and (overlap["only_first"] or overlap["only_second"]):
        # pass@k and coverage of two different problem sets are not comparable: say so plainly.
        note = (f"{names[0]} and {names[1]} cover different tasks ({overlap['shared']:,} in both, "
                f"{overlap['only_first']:,} only in the first, {overlap['only_second']:,} only in the second); "
                f"each column is over its own tasks")
    if json_path is not None:
        data = {**runs[0].to_json(), "dedup": dedup_drops(runs[0]), "provenance": provenance(runs[0])}
        if compare is not None:
            data["compare"] = {**runs[1].to_json(), "dedup": dedup_drops(runs[1]), "provenance": provenance(runs[1])}
            data["compare_tasks"] = overlap
            data["compare_kind"] = "curated" if curation else "comparison"
            if curation:  # 100% by construction: the yield says what curation did instead
                for key in ("pass_at_k", "pass_at_k_not_computable"):
                    data["compare"].pop(key)
                data["yield"] = curation
        json_path.write_text(json.dumps(data, indent=2) + "\n")
    if html_path is not None:
        from ekt_curate.stats.html import render

        html_path.write_text(render(runs, names, curation=curation, note=note), encoding="utf-8")
    if show:
        from ekt_curate.stats.terminal import print_stats

        if note:
            print(f"note: {note}", file=sys.stderr)
        print_stats(runs, names, curation=curation)
    return runs
