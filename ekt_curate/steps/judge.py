"""Judge each sample: run its program in the sandbox and compare the answer with its gold,
through the one Judge every judging caller shares (ekt_curate.judge). Input order is kept;
rejected lines pass through. A line reaches here with a usable gold (AttachGold rejects the
others), so this step drops nothing: a sample without a program is a ``no_program`` verdict,
a failure that counts, not a lost line."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

from ekt_curate.judge import Judge, Sample
from ekt_curate.steps.base import Item, StepStats


class JudgeSamples:
    def __init__(self, judge: Judge):
        self.judge = judge
        self.stats = StepStats("judge")

    def __call__(self, items: Iterable[Item]) -> Iterator[Item]:
        pending: deque[Item] = deque()  # bounded by the sandbox's in-flight jobs plus rejects between them

        def samples() -> Iterator[Sample]:
            for item in items:
                pending.append(item)
                if not item.reject:
                    yield Sample(item.program, item.gold, item.task_id, item.tests)  # type: ignore[arg-type]

        for verdict in self.judge.verdicts(samples()):
            while pending[0].reject:
                yield self.stats.count(pending.popleft(), True)
            item = pending.popleft()
            verdict["line"] = item.line
            if item.choice is not None:
                verdict["choice"] = item.choice
            item.verdict = verdict
            yield self.stats.count(item, False)
        while pending:  # rejects after the last sample
            yield self.stats.count(pending.popleft(), True)

    @property
    def gold_not_numeric(self) -> set[str]:
        return self.judge.gold_not_numeric

    def close(self) -> None:
        self.judge.close()
