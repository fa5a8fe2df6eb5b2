"""The bounded queue in front of the sandbox: at most ``max_queue`` requests admitted at once.

A request over the bound waits up to ``queue_wait`` seconds for room, then is refused with 429
and ``Retry-After``. What each client does with a 429 (README, "Serving"): the sandbox-fusion
client and OpenRLHF retry it; verl's sandbox_fusion reward retries only 504 and scores a 429 as
an API error, so give verl a ``--max-queue`` above its concurrency, or a ``--queue-wait``.
"""

from __future__ import annotations

import asyncio
import time


class Full(Exception):
    """No room within the wait: answered 429."""


class Admission:
    def __init__(self, max_queue: int, queue_wait: float):
        self.max_queue, self.queue_wait = max_queue, queue_wait
        self.admitted = 0
        self.waiting = 0
        self._room = asyncio.Condition()

    async def enter(self) -> None:
        if self.admitted < self.max_queue:
            self.admitted += 1
            return
        if self.queue_wait <= 0:
            raise Full()
        deadline = time.monotonic() + self.queue_wait
        self.waiting += 1
        try:
            async with self._room:
                while self.admitted >= self.max_queue:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise Full()
                    try:
                        await asyncio.wait_for(self._room.wait(), left)
                    except asyncio.TimeoutError:
                        raise Full() from None
                self.admitted += 1
        finally:
            self.waiting -= 1

    async def leave(self) -> None:
        self.admitted -= 1
        if self.waiting:
            async with self._room:
                self._room.notify()
