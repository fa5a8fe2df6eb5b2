"""SharedSandbox: many threads through one Sandbox, each getting its own results in order, none
held up by another's slow program, and a cancelled session freeing the workers it held."""

from __future__ import annotations

import threading
import time

import pytest

from ekt_curate.sandbox import Sandbox, Status
from ekt_curate.sandbox.shared import Cancelled, SharedSandbox
from tests.sandbox.conftest import fast_policy


@pytest.fixture(scope="module")
def shared():
    box = SharedSandbox(Sandbox(fast_policy(), workers=2))
    box.start()
    yield box
    box.close()


def test_eight_threads_each_get_their_own_results_in_order(shared):
    got: dict[int, list] = {}

    def caller(k: int) -> None:
        got[k] = [result.answer for result in shared.map(f"answer = {k} * {i}" for i in range(40))]

    threads = [threading.Thread(target=caller, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert got == {k: [k * i for i in range(40)] for k in range(8)}


def test_a_slow_program_does_not_hold_up_another_callers_answer(shared):
    slow = threading.Thread(target=lambda: shared.run("while True:\n    pass"))
    slow.start()
    time.sleep(0.2)
    started = time.monotonic()
    assert shared.run("answer = 1").answer == 1
    assert time.monotonic() - started < 1.0  # the other worker answers; the loop runs to its 2 s limit
    slow.join(30)


def test_a_cancelled_session_frees_its_workers(shared):
    session = shared.session()
    outcome: list = []

    def caller() -> None:
        try:
            list(session.map(["import time\ntime.sleep(30)"] * 6))
        except Cancelled as exc:
            outcome.append(exc)

    thread = threading.Thread(target=caller)
    thread.start()
    time.sleep(0.5)  # both workers busy with its sleepers, the rest queued
    started = time.monotonic()
    session.cancel()
    thread.join(10)
    assert outcome and isinstance(outcome[0], Cancelled)
    result = shared.run("answer = 2")
    assert result.answer == 2 and time.monotonic() - started < 1.5  # killed, not waited for
    assert shared.queued == 0 and shared.running == 0


def test_results_of_plain_failures_are_still_delivered(shared):
    results = list(shared.map(["x = (", "raise ValueError('v')", "answer = 3"]))
    assert [r.status for r in results] == [Status.SYNTAX_ERROR, Status.RUNTIME_ERROR, Status.OK]
