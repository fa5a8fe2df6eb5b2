"""Run each program in the sandbox, keeping input order (rejected lines pass through)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

from ekt_curate.sandbox import Sandbox
from ekt_curate.steps.base import Item, StepStats


class ExecutePrograms:
    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self.stats = StepStats("execute")

    def __call__(self, items: Iterable[Item]) -> Iterator[Item]:
        pending: deque[Item] = deque()  # bounded by the sandbox's in-flight jobs plus rejects between them

        def programs() -> Iterator[str]:
            for item in items:
                pending.append(item)
                if not item.reject:
                    yield item.program

        for result in self.sandbox.map(programs()):
            while pending[0].reject:
                yield self.stats.count(pending.popleft(), True)
            item = pending.popleft()
            item.result = result
            yield self.stats.count(item, False)
        while pending:  # rejects after the last program
            yield self.stats.count(pending.popleft(), True)
