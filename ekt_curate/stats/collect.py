"""One streaming pass over a verified file, collecting everything the reports show."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ekt_curate.sandbox.program_text import extract_program
from ekt_curate.stats.examples import EXAMPLES_PER_CLASS, failure_example, snippet
from ekt_curate.stats.pass_at_k import mean_pass_at_k

PASS_RATE_BINS = ["0%", "1-10%", "11-20%", "21-30%", "31-40%", "41-50%", "51-60%", "61-70%", "71-80%",
                  "81-90%", "91-99%", "100%"]
RUNTIME_EDGES_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]
NEVER_PASSED_IN_JSON = 100


@dataclass
class Stats:
    source: str
    per_task: dict[str, list[int]] = field(default_factory=dict)   # task -> [samples, passes]
    statuses: Counter[str] = field(default_factory=Counter)
    failure_details: dict[str, Counter[str]] = field(default_factory=dict)
    program_lines: list[int] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    cluster_sizes: list[int] = field(default_factory=list)
    # Tasks whose gold parses to nothing numeric while their answers are numbers (the judge flags
    # such verdicts gold_not_numeric): they can never pass under the strict checker, so a low
    # pass rate there is the gold's format, not the programs; shown so it is not read as failure.
    gold_not_numeric: set[str] = field(default_factory=set)
    invalid_lines: int = 0
    ks: tuple[int, ...] = (1, 10, 100)
    # a few failing samples per (status, detail) class, as the page shows them (program, answer, gold)
    examples: dict[tuple[str, str], list[dict[str, str]]] = field(default_factory=dict)
    # tasks with no pass so far -> their question and gold (snippets); a task leaves it at its first pass
    unsolved: dict[str, dict[str, str | None]] = field(default_factory=dict)
    meta: dict[str, Any] | None = None    # the file's provenance sidecar (<file>.meta.json), if any
    meta_written: float | None = None     # when that sidecar was written (its file time)

    @property
    def samples(self) -> int:
        return sum(n for n, _ in self.per_task.values())

    @property
    def tasks(self) -> int:
        return len(self.per_task)

    @property
    def passes(self) -> int:
        return sum(c for _, c in self.per_task.values())

    @property
    def coverage(self) -> float:
        return sum(c > 0 for _, c in self.per_task.values()) / self.tasks if self.tasks else 0.0

    @property
    def accuracy(self) -> float:
        return self.passes / self.samples if self.samples else 0.0

    def pass_at_k(self) -> dict[str, float | None]:
        counts = [(n, c) for n, c in self.per_task.values()]
        return {str(k): mean_pass_at_k(counts, k)[0] for k in self.ks}

    def not_computable(self) -> dict[str, int]:
        counts = [(n, c) for n, c in self.per_task.values()]
        return {str(k): missing for k in self.ks if (missing := mean_pass_at_k(counts, k)[1])}

    def pass_rate_histogram(self) -> list[int]:
        bins = [0] * len(PASS_RATE_BINS)
        for n, c in self.per_task.values():
            rate = c / n
            index = 0 if c == 0 else (11 if c == n else min(10, 1 + int((rate * 100 - 1e-9) // 10)))
            bins[index] += 1
        return bins

    def runtime_histogram(self) -> tuple[list[str], list[int]]:
        labels = [f"<{RUNTIME_EDGES_MS[0]}"] + [f"{a}-{b}" for a, b in zip(RUNTIME_EDGES_MS, RUNTIME_EDGES_MS[1:])] \
            + [f">={RUNTIME_EDGES_MS[-1]}"]
        counts = np.bincount(np.searchsorted(RUNTIME_EDGES_MS, self.cpu_ms, side="right"), minlength=len(labels))
        return labels, counts.tolist()

    def length_histogram(self, width: int = 5, bins: int = 12) -> tuple[list[str], list[int]]:
        labels = [f"{i * width + 1}-{(i + 1) * width}" for i in range(bins - 1)] + [f">{(bins - 1) * width}"]
        indices = np.minimum((np.asarray(self.program_lines, dtype=int) - 1).clip(min=0) // width, bins - 1)
        return labels, np.bincount(indices, minlength=bins).tolist()

    def percentiles(self, values: list[float] | list[int]) -> dict[str, float]:
        if not values:
            return {}
        p50, p90, p99 = np.percentile(values, [50, 90, 99])
        return {"p50": float(p50), "p90": float(p90), "p99": float(p99), "max": float(max(values))}

    @property
    def gold_not_numeric_tasks(self) -> int:
        return len(self.gold_not_numeric)

    def gold_not_numeric_example(self) -> str | None:
        return min(self.gold_not_numeric) if self.gold_not_numeric else None  # stable across runs

    @property
    def min_samples_per_task(self) -> int:
        return min((n for n, _ in self.per_task.values()), default=0)

    def never_passed(self) -> list[tuple[str, dict[str, str | None]]]:
        """The tasks no sample passed, in input order, with their question and gold where recorded."""
        return [(task, self.unsolved.get(task, {})) for task, (_, c) in self.per_task.items() if c == 0]

    def failure_classes(self, limit: int = 8) -> list[tuple[str, str, int, list[dict[str, str]]]]:
        """The most common failures, each with its examples."""
        return [(s, d, c, self.examples.get((s, d), [])) for s, d, c in self.top_failures(limit)]

    def duplicates_ratio(self) -> float | None:
        """Share of the samples behind kept records that were duplicates (dedup metadata)."""
        if not self.cluster_sizes:
            return None
        return 1 - len(self.cluster_sizes) / sum(self.cluster_sizes)

    def top_failures(self, limit: int = 8) -> list[tuple[str, str, int]]:
        rows = [(status, detail, count) for status, details in self.failure_details.items()
                for detail, count in details.items()]
        return sorted(rows, key=lambda row: (-row[2], row[0], row[1]))[:limit]

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "tasks": self.tasks,
            "samples": self.samples,
            "pass_at_k": self.pass_at_k(),
            "pass_at_k_not_computable": self.not_computable(),
            "coverage": self.coverage,
            "accuracy": self.accuracy,
            "status_counts": dict(sorted(self.statuses.items())),
            "top_failures": [{"status": s, "detail": d, "count": c} for s, d, c in self.top_failures()],
            "pass_rate_histogram": dict(zip(PASS_RATE_BINS, self.pass_rate_histogram())),
            "program_lines": self.percentiles(self.program_lines),
            "cpu_ms": self.percentiles(self.cpu_ms),
            "duplicates_ratio": self.duplicates_ratio(),
            "gold_not_numeric_tasks": self.gold_not_numeric_tasks,
            "gold_not_numeric_example": self.gold_not_numeric_example(),
            "invalid_lines": self.invalid_lines,
            "failure_examples": [{"status": s, "detail": d, "count": c, "examples": examples}
                                 for s, d, c, examples in self.failure_classes()],
            "tasks_never_passed": {"count": len(never := self.never_passed()),
                                   "tasks": [task for task, _ in never[:NEVER_PASSED_IN_JSON]]},
        }


def _failure_key(status: str, detail: str) -> str:
    if status in ("runtime_error", "syntax_error"):
        return detail.split(":", 1)[0] or status  # the exception type
    if status == "wrong_answer":
        return "wrong answer"
    return detail.split(" (", 1)[0][:100] or status


def collect(path: Path, ks: tuple[int, ...] = (1, 10, 100)) -> Stats:
    from ekt_curate.provenance import find_verify, meta_path, read_meta
    from ekt_curate.sources import iter_raw, parse_source  # JSON Lines, parquet, CSV, dataset folder, hf:

    stats = Stats(str(path), ks=ks)
    stats.meta = read_meta(path)
    if stats.meta is not None:
        stats.meta_written = meta_path(path).stat().st_mtime
    fields = (find_verify(stats.meta) or {}).get("fields")
    question_field = fields.get("question", "question") if isinstance(fields, dict) else "question"

    for _, raw in iter_raw(parse_source(path)):
        try:
            record = json.loads(raw)
            verdict = record["verdict"]
            task = str(record["task_id"])
            status, passed = str(verdict["status"]), bool(verdict["passed"])
        except (ValueError, KeyError, TypeError):
            stats.invalid_lines += 1
            continue
        counts = stats.per_task.setdefault(task, [0, 0])
        counts[0] += 1
        counts[1] += passed
        stats.statuses[status] += 1
        if passed:
            stats.unsolved.pop(task, None)
        elif counts[1] == 0 and task not in stats.unsolved:
            question = record.get(question_field, record.get("question", record.get("problem", record.get("prompt"))))
            stats.unsolved[task] = {"question": snippet(question) if question is not None else None,
                                    "gold": snippet(record["gold"]) if "gold" in record else None}
        if not passed:
            failure = verdict.get("first_failure")  # code: the failing case's own detail, not "case 3 of 5: ..."
            detail = failure.get("detail") if isinstance(failure, dict) else verdict.get("detail")
            key = _failure_key(status, str(detail or ""))
            stats.failure_details.setdefault(status, Counter())[key] += 1
            shown = stats.examples.setdefault((status, key), [])
            if len(shown) < EXAMPLES_PER_CLASS:
                shown.append(failure_example(task, record, verdict))
        if verdict.get("gold_not_numeric") is True:
            stats.gold_not_numeric.add(task)
        program = record.get("completion", record.get("code"))
        if isinstance(program, str):
            stats.program_lines.append(max(1, len(extract_program(program).strip().splitlines())))
        if isinstance(verdict.get("cpu_ms"), (int, float)):
            stats.cpu_ms.append(float(verdict["cpu_ms"]))
        if isinstance(record.get("dedup"), dict) and isinstance(record["dedup"].get("cluster_size"), int):
            stats.cluster_sizes.append(record["dedup"]["cluster_size"])
    return stats
