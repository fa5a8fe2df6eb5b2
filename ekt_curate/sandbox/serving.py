"""What lets many threads share one ``Sandbox`` (serve/, via shared.py): ``map_unordered`` yields
results as programs finish, its source may say ``IDLE`` (nothing to run now), and ``wake`` and
``cancel`` reach the running event loop from any thread through a self-pipe.

A mixin of ``Sandbox``, kept apart because it is the one part that other threads call into; it
uses the Sandbox's event-loop state (``_wake_fds``, ``_cancels``, ``_base``, ``_finished``,
``_retry``, ``_workers``) and its ``_acquire``/``_map``/``_abandon``/``_release``.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ekt_curate.sandbox.result import Result

IDLE = object()            # what a served source yields when it has nothing now (see map_unordered)


class ServedMap:
    _wake_fds: tuple[int, int] | None
    _cancels: collections.deque[int]
    _base: int
    _finished: dict[int, Any]
    _retry: collections.deque[Any]
    _workers: list[Any]
    answer: str

    def map_unordered(self, codes: Iterable[object]) -> Iterator[tuple[int, Result]]:
        """(position, Result) as each program finishes, for a caller serving many clients (shared.py).

        ``codes`` may yield ``IDLE`` when it has nothing to run now: it is asked again after the next
        event, or as soon as ``wake()`` is called from another thread. ``cancel(position)`` (any
        thread) kills a program, or withdraws it, and its result is never yielded."""
        self._acquire()
        try:
            if not self._workers:
                self.start()
            self._base = self._next_id
            yield from self._map(iter(codes), None, self.answer, ordered=False)  # type: ignore[arg-type]
        finally:
            try:
                self._abandon()
            finally:
                self._release()

    def wake(self) -> None:
        """Make a running map_unordered ask its source again (thread-safe)."""
        if self._wake_fds is not None:
            try:
                os.write(self._wake_fds[1], b"\0")
            except (BlockingIOError, OSError):
                pass  # the pipe is full (a wake is pending anyway) or closed (the sandbox too)

    def cancel(self, position: int) -> None:
        """Kill a program map_unordered was given, by its position there (thread-safe)."""
        self._cancels.append(self._base + position)
        self.wake()

    def _woken(self) -> None:
        assert self._wake_fds is not None
        try:
            while os.read(self._wake_fds[0], 4096):
                pass
        except BlockingIOError:
            pass
        while self._cancels:
            job_id = self._cancels.popleft()
            self._finished.pop(job_id, None)
            self._retry = collections.deque(job for job in self._retry if job.id != job_id)
            for worker in self._workers:
                job = worker.jobs.get(job_id)
                if job is not None and not job.canary:
                    job.abandoned = True
                    job.close_writer()
                    job.kill()
