"""``SharedSandbox``: one Sandbox that many threads run programs through at once.

A Sandbox runs one map at a time. A server has many requests in flight, each a short stream
of programs; giving each its own Sandbox would multiply the zygotes, and taking turns would
make one request's slow program hold up every other. Here one dispatcher thread runs the
Sandbox's ``map_unordered`` over a queue that every caller adds to; each result goes back to
the caller that asked for it as soon as it is done.

    shared = SharedSandbox(Sandbox("default", workers=2))
    shared.start()
    result = shared.run(Program("print(input())", stdin=b"hi", run=True))
    for result in shared.map(programs):     # the Sandbox.map interface: the Judge takes it
        ...
    shared.close()

``map`` keeps at most ``window`` of its programs queued or running, so a caller with a long
stream cannot take every worker from the others; an abandoned ``map`` (the caller stopped
reading, a client that went away) withdraws what it has queued and kills what runs.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ekt_curate.sandbox.errors import SandboxError
from ekt_curate.sandbox.executor import Sandbox
from ekt_curate.sandbox.program import Program
from ekt_curate.sandbox.result import Result, Status
from ekt_curate.sandbox.serving import IDLE


class Ticket:
    """One program on its way through a SharedSandbox: done() is called once with its Result,
    unless it is cancelled first."""

    __slots__ = ("program", "done", "position", "cancelled")

    def __init__(self, program: str | Program, done: Callable[[Result], None]):
        self.program, self.done = program, done
        self.position: int | None = None  # in the dispatcher's map, once handed to the sandbox
        self.cancelled = False


MAX_FAILURES = 8  # dispatcher failures in a row, with no result between them, before it gives up


class Cancelled(SandboxError):
    """A session's map ended by its cancel()."""


class Session:
    """One caller's view of a SharedSandbox (a server's request): the Sandbox.map interface the
    Judge takes, and cancel() to end its maps and free every program they queued or run."""

    def __init__(self, shared: "SharedSandbox"):
        self.shared = shared
        self.cancelled = False
        self.conditions: list[threading.Condition] = []

    @property
    def policy(self) -> Any:
        return self.shared.policy

    def map(self, programs: Iterable[str | Program], prelude: str | None = None,
            answer: str | None = None) -> Iterator[Result]:
        return self.shared.map(programs, prelude, answer, session=self)

    def cancel(self) -> None:
        """From any thread: each map of this session raises Cancelled and withdraws its programs."""
        self.cancelled = True
        for condition in list(self.conditions):
            with condition:
                condition.notify_all()


class SharedSandbox:
    def __init__(self, sandbox: Sandbox, window: int | None = None):
        self.sandbox = sandbox
        self.window = window or sandbox.workers * sandbox.depth
        self._queue: deque[Ticket] = deque()
        self._running: dict[int, Ticket] = {}
        self._lock = threading.Lock()
        self._closing = False
        self._idle = True                 # the dispatcher found the queue empty last time it looked
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self.restarts = 0                 # times the dispatcher's map failed and was started again
        self.last_failure = ""

    @property
    def policy(self) -> Any:
        return self.sandbox.policy

    @property
    def queued(self) -> int:
        """Programs waiting for a worker (not counting the ones running)."""
        return len(self._queue)

    @property
    def running(self) -> int:
        return len(self._running)

    def start(self) -> None:
        if self._thread is not None:
            return
        self.sandbox.start()  # here, so a failing layer is the caller's error, not the thread's
        self._thread = threading.Thread(target=self._dispatch, name="ekt-sandbox-dispatch", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Finish what was submitted, then stop the dispatcher and the sandbox."""
        with self._lock:
            self._closing = True
        self.sandbox.wake()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.sandbox.close()

    # -- submitting -----------------------------------------------------------------------------
    def submit(self, program: str | Program, done: Callable[[Result], None]) -> Ticket:
        """Queue a program; ``done(result)`` is called from the dispatcher thread (keep it short)."""
        ticket = Ticket(program, done)
        with self._lock:
            if self._failure is not None:
                raise SandboxError(f"the sandbox dispatcher stopped: {self._failure}")
            if self._closing or self._thread is None:
                raise SandboxError("the shared sandbox is not running (start() it, or it was closed)")
            self._queue.append(ticket)
            idle = self._idle
        if idle:  # a busy dispatcher asks the queue again at its next event: no wake-up needed
            self.sandbox.wake()
        return ticket

    def cancel(self, ticket: Ticket) -> None:
        """Withdraw a queued program or kill a running one; its done() is not called."""
        with self._lock:
            if ticket.cancelled:
                return
            ticket.cancelled = True
            if ticket.position is None:
                try:
                    self._queue.remove(ticket)
                except ValueError:
                    pass
                return
            if self._running.pop(ticket.position, None) is None:
                return  # finished already
        self.sandbox.cancel(ticket.position)

    def run(self, program: str | Program) -> Result:
        return next(self.map([program]))

    def session(self) -> "Session":
        return Session(self)

    def map(self, programs: Iterable[str | Program], prelude: str | None = None,
            answer: str | None = None, session: "Session | None" = None) -> Iterator[Result]:
        """Results in input order, as Sandbox.map gives them; many threads may map at once.
        Programs are judged with the sandbox's own prelude and answer convention. Within a
        ``session``, its cancel() ends the map with Cancelled and frees what it asked for."""
        if prelude is not None or answer is not None:
            raise SandboxError("a SharedSandbox runs every program with its sandbox's prelude and answer settings")
        results: dict[int, Result] = {}
        ready = threading.Condition()
        if session is not None:
            session.conditions.append(ready)
        tickets: deque[Ticket] = deque()
        source = iter(programs)
        submitted = delivered = 0
        exhausted = False

        def deliver(index: int) -> Callable[[Result], None]:
            def done(result: Result) -> None:
                with ready:
                    results[index] = result
                    ready.notify()
            return done

        try:
            while True:
                while not exhausted and submitted - delivered < self.window:
                    try:
                        program = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    tickets.append(self.submit(program, deliver(submitted)))
                    submitted += 1
                if exhausted and delivered == submitted:
                    return
                with ready:
                    while delivered not in results:
                        if session is not None and session.cancelled:
                            raise Cancelled("the request was cancelled (its client went away or its deadline passed)")
                        if self._failure is not None:
                            raise SandboxError(f"the sandbox dispatcher stopped: {self._failure}")
                        ready.wait(1.0)
                    result = results.pop(delivered)
                tickets.popleft()
                delivered += 1
                yield result
        finally:
            for ticket in tickets:  # the caller stopped reading (or failed): free the workers
                self.cancel(ticket)
            if session is not None:
                session.conditions.remove(ready)

    # -- the dispatcher thread ------------------------------------------------------------------
    def _source(self) -> Iterator[object]:
        position = 0
        while True:
            with self._lock:
                # idle: set under the lock that submit() holds, so a program queued after this
                # check always wakes the dispatcher
                self._idle = not self._queue
                if not self._queue:
                    if self._closing:
                        return
                    ticket = None
                else:
                    ticket = self._queue.popleft()
                    ticket.position = position
                    self._running[position] = ticket
                    position += 1
            yield IDLE if ticket is None else ticket.program

    def _dispatch(self) -> None:
        """Run the sandbox's map until close(). A failure inside it (out of descriptors, a
        replacement zygote that cannot start) fails the programs it was running and starts the
        map again; the queued ones wait for it. Only MAX_FAILURES in a row, with no result
        between them, stop the dispatcher (``alive`` turns false and every caller is told)."""
        failures = 0
        while True:
            try:
                for position, result in self.sandbox.map_unordered(self._source()):
                    failures = 0
                    with self._lock:
                        ticket = self._running.pop(position, None)
                    if ticket is not None and not ticket.cancelled:
                        ticket.done(result)
                return  # the source ended: close() was called
            except BaseException as exc:  # noqa: BLE001 - every waiting caller is told, none hangs
                failures += 1
                self.restarts += 1
                self.last_failure = f"{type(exc).__name__}: {exc}"[:300]
                final = failures >= MAX_FAILURES or self._closing
                with self._lock:
                    waiting = list(self._running.values())
                    self._running.clear()
                    if final:
                        self._failure = exc
                        waiting += list(self._queue)
                        self._queue.clear()
                for ticket in waiting:
                    ticket.done(Result.failure(Status.SANDBOX_ERROR, f"sandbox dispatcher failed: {exc}"[:300]))
                if final:
                    return
                time.sleep(min(0.1 * 2 ** failures, 5.0))

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._failure is None
