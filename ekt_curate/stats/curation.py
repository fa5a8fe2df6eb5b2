"""What a file's sidecar and its records say about where it came from: its provenance, the
records dedup dropped by kind, and whether a second file is a curated output of the first
(then stats shows the yield of curation, not pass@k deltas: a file of only passing samples
has a pass@k of 100% by construction). Only what is recorded is shown; nothing is inferred."""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ekt_curate.provenance import find_stage, find_verify
from ekt_curate.stats.collect import Stats

DEFAULT_KS = (1, 10, 100)
NOT_RECORDED = "not recorded"


def fit_ks(runs: list[Stats]) -> tuple[int, ...]:
    """The default --k: those of 1, 10, 100 that every task of these runs has samples for."""
    fewest = min((run.min_samples_per_task for run in runs if run.tasks), default=1)
    return tuple(k for k in DEFAULT_KS if k <= fewest) or (1,)


def stage_chain(meta: dict[str, Any] | None) -> list[str]:
    chain = []
    while meta is not None:
        chain.append(str(meta.get("stage", "?")))
        meta = meta.get("upstream")
    return chain[::-1]


def provenance(run: Stats) -> dict[str, str]:
    """label -> value, "not recorded" where the sidecar (or its chain) does not say."""
    meta = run.meta
    verify = find_verify(meta) or {}
    sample = find_stage(meta, "sample") or {}
    teacher = sample.get("model") or (f"backend {sample['backend']}" if sample.get("backend") else None)
    if teacher and sample.get("backend") and sample.get("model"):
        teacher = f"{sample['model']} ({sample['backend']})"
    written = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(run.meta_written)) if run.meta_written else None
    shown = {
        "stages": " → ".join(stage_chain(meta)) if meta else None,
        "command": meta.get("command") if meta else None,
        **({"run by": meta["run_by"]} if meta and meta.get("run_by") else {}),  # a pipeline stage's own command
        "ekt-curate version": meta.get("ekt_curate_version") if meta else None,
        "teacher": teacher,
        "problems": verify.get("problems") or sample.get("problems"),
        "sandbox policy": verify.get("policy"),
        "checker": verify.get("checker"),
        "written": written and f"{written} (the sidecar's file time)",
    }
    return {label: str(value) if value not in (None, "") else NOT_RECORDED for label, value in shown.items()}


def dropped_file(path: str) -> Path:
    source = Path(path)
    return source.with_name(source.name.removesuffix(".jsonl") + ".dropped.jsonl")


def dedup_drops(run: Stats) -> dict[str, Any] | None:
    """For a dedup output: records read, kept, and dropped by reason, from its sidecar, else from its
    dropped file; None for a file dedup did not write. ``dropped`` is None where neither is there."""
    meta = run.meta
    if meta is not None and meta.get("stage") == "dedup" and isinstance(meta.get("dropped"), dict):
        return {"read": meta.get("read"), "kept": meta.get("kept"), "dropped": dict(meta["dropped"]),
                "threshold": meta.get("threshold"), "from": "sidecar"}
    if not run.cluster_sizes:
        return None  # no record carries dedup's metadata: not a dedup output
    reasons: Counter[str] = Counter()
    try:
        with dropped_file(run.source).open("rb") as handle:
            for line in handle:
                try:
                    reasons[str(json.loads(line)["dedup_dropped"]["reason"])] += 1
                except (ValueError, KeyError, TypeError):
                    continue
    except OSError:
        return {"read": None, "kept": run.samples, "dropped": None, "threshold": None, "from": None}
    return {"read": run.samples + sum(reasons.values()), "kept": run.samples, "dropped": dict(reasons),
            "threshold": None, "from": "dropped file"}


def curated_from(first: Stats, second: Stats) -> str | None:
    """Why ``second`` is a curated output of ``first`` (None if it is not): its tasks are the
    first's and its sidecar says dedup wrote it, or all its records pass and there are no more of
    them than the first file's passing samples."""
    if not second.samples or not second.per_task.keys() <= first.per_task.keys():
        return None
    if second.meta is not None and second.meta.get("stage") == "dedup":
        return "its sidecar says dedup wrote it"
    if second.passes == second.samples and second.samples <= first.passes:
        return "all its records pass and their tasks are the first file's"
    return None


def curation_yield(first: Stats, second: Stats, why: str) -> dict[str, Any]:
    """kept records against the verified passing ones, overall and per task."""
    kept = {task: second.per_task.get(task, [0, 0])[0] for task in first.per_task}
    kept_counts = [count for count in kept.values() if count]
    histogram = Counter(kept.values())
    return {
        "why": why,
        "kept": second.samples,
        "kept_passing": second.passes,
        "verified_passing": first.passes,
        "share": second.passes / first.passes if first.passes else None,
        "tasks": first.tasks,
        "tasks_with_a_pass": sum(c > 0 for _, c in first.per_task.values()),
        "tasks_kept": sum(1 for count in kept.values() if count),
        "kept_per_task": {"min": min(kept_counts), "median": statistics.median(kept_counts),
                          "max": max(kept_counts)} if kept_counts else None,
        "tasks_by_kept": {str(count): histogram[count] for count in sorted(histogram)},
        "duplicates_ratio": second.duplicates_ratio(),
        "dedup": dedup_drops(second),
    }


def yield_lines(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, shown) rows of the yield, for the terminal and the page."""
    share = f" ({100 * data['share']:.1f}%)" if data["share"] is not None else ""
    rows = [("records kept", f"{data['kept_passing']:,} of {data['verified_passing']:,} passing samples{share}")]
    if data["kept"] != data["kept_passing"]:
        rows.append(("failing records kept", f"{data['kept'] - data['kept_passing']:,}"))
    without = data["tasks"] - data["tasks_with_a_pass"]
    rows.append(("tasks kept", f"{data['tasks_kept']:,} of {data['tasks']:,}"
                 + (f" ({without:,} had no passing sample to keep)" if without else "")))
    per_task = data["kept_per_task"]
    if per_task:
        rows.append(("kept per task", f"median {per_task['median']:g}, min {per_task['min']:,}, max {per_task['max']:,}"))
    if data["duplicates_ratio"] is not None:
        rows.append(("duplicates merged", f"{100 * data['duplicates_ratio']:.1f}% of the passing samples behind "
                                          "kept records"))
    dedup = data["dedup"]
    rows.append(("dropped by kind", drops_text(dedup) if dedup else NOT_RECORDED))
    return rows


def drops_text(dedup: dict[str, Any]) -> str:
    if dedup["dropped"] is None:
        return f"{NOT_RECORDED} (no sidecar, no dropped file)"
    kinds = ", ".join(f"{reason.replace('_', ' ')} {count:,}" for reason, count in
                      sorted(dedup["dropped"].items(), key=lambda item: -item[1]) if count)
    return f"{kinds or 'none'} (from the {dedup['from']})"
