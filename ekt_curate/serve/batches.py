"""POST /verify and OpenRLHF's POST /get_reward: samples judged as `ekt-curate verify` judges them.

/verify takes records in verify's contract (a task id, a completion under any name and shape
verify reads, a gold or tests) through verify's own steps (parse, attach gold, judge) and the one
Judge; each record gets its verdict and reward, or the reason it was rejected (reward ``failed``,
counted). /get_reward takes OpenRLHF's ``query`` (prompt + response), ``prompts`` and
``labels`` (the golds), as ekt_curate.rewards.openrlhf does in-process.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

from ekt_curate.judge import Judge, Sample, read_gold
from ekt_curate.judge.code_tests import CodeTestsError, has_tests, read_tests
from ekt_curate.judge.reward_value import reward_value
from ekt_curate.steps.attach_gold import AttachGold
from ekt_curate.steps.base import Item
from ekt_curate.steps.judge import JudgeSamples
from ekt_curate.steps.parse_samples import ParseSamples


def verify_samples(judge: Judge, records: list[dict[str, Any]], score: str, passed: float,
                   failed: float) -> dict[str, Any]:
    """One result per sample (a record with several choices is one per choice), in order."""
    def items() -> Iterator[Item]:
        for index, record in enumerate(records):
            yield Item(index, json.dumps(record, ensure_ascii=False).encode("utf-8", "surrogatepass"))

    steps = JudgeSamples(judge)(AttachGold(None, None)(ParseSamples()(items())))
    results, statuses = [], Counter()
    for item in steps:
        entry: dict[str, Any] = {"index": item.line}
        if item.choice is not None:
            entry["choice"] = item.choice
        if item.reject is not None:
            entry.update(rejected=item.reject, reward=failed)
            statuses["rejected"] += 1
        else:
            assert item.verdict is not None
            verdict = {key: value for key, value in item.verdict.items() if key not in ("line", "choice")}
            entry.update(verdict=verdict, reward=reward_value(verdict, score, passed, failed))
            statuses[str(verdict["status"])] += 1
        results.append(entry)
    return {"results": results, "counts": dict(sorted(statuses.items()))}


def openrlhf_rewards(judge: Judge, query: list[str], prompts: list[str] | None,
                     labels: list[Any] | None) -> dict[str, Any]:
    """OpenRLHF's remote reward answer: rewards (for the advantage), scores (for dynamic
    filtering) and extra_logs (status counts), one reward per query."""
    from ekt_curate.rewards.openrlhf import response_of

    prompts = prompts if prompts is not None else [""] * len(query)
    labels = labels if labels is not None else [None] * len(query)
    samples = [_sample(response_of(q, p), label) for q, p, label in zip(query, prompts, labels)]
    verdicts = list(judge.verdicts(samples))
    rewards = [reward_value(verdict) for verdict in verdicts]
    counts = Counter(str(verdict["status"]) for verdict in verdicts)
    return {"rewards": rewards, "scores": rewards,
            "extra_logs": {f"verified/{status}": float(count) for status, count in sorted(counts.items())}}


def _sample(response: str, label: Any) -> Sample:
    """A label is the gold, or (code) a dict of test fields or their JSON text."""
    tests = label
    if isinstance(label, str) and label.lstrip().startswith("{"):
        try:
            tests = json.loads(label)
        except (ValueError, RecursionError):  # not JSON, or nested past the parser: a plain gold
            tests = label
    if isinstance(tests, dict) and has_tests(tests):
        try:
            return Sample(response, tests=read_tests(tests))
        except CodeTestsError:
            return Sample(response, read_gold(None))
    return Sample(response, read_gold(label))

