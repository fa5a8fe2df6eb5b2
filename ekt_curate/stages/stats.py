"""`ekt-curate stats`: pass@k, coverage and distributions, in the terminal, as JSON, as HTML."""

from __future__ import annotations

import json
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


def run_stats(path: Path, ks: tuple[int, ...], compare: Path | None = None, json_path: Path | None = None,
              html_path: Path | None = None, show: bool = True) -> list:
    from ekt_curate.stats.collect import collect

    runs = [collect(path, ks)]
    names = [path.name]
    if compare is not None:
        runs.append(collect(compare, ks))
        names.append(compare.name if compare.name != path.name else str(compare))
    if runs[0].samples == 0:
        raise EktError(f"{path}: no verified samples (is it the output of 'ekt-curate verify'?)")
    if json_path is not None:
        data = runs[0].to_json()
        if compare is not None:
            data["compare"] = runs[1].to_json()
        json_path.write_text(json.dumps(data, indent=2) + "\n")
    if html_path is not None:
        from ekt_curate.stats.html import render

        html_path.write_text(render(runs, names), encoding="utf-8")
    if show:
        from ekt_curate.stats.terminal import print_stats

        print_stats(runs, names)
    return runs
