"""Supervising one child from its zygote, and reading how it ended.

``Watch`` drains the child's stdout, stderr and result pipes concurrently (poll on the pipes
and a pidfd), keeps only tails of the output, enforces the wall clock and the output cap by
SIGKILL of the child's process group, and bounds what it accepts on the result pipe.
``classify`` turns that and the exit status into one result from the fixed taxonomy. The
child's report is trusted for nothing but what the program may claim anyway (its answer and
its own failure): set-up failures count only before the ready mark, and anything malformed,
repeated or oversized is ``no_answer``.
"""

from __future__ import annotations

import json
import os
import select
import signal
import time
from typing import Any

from ekt_curate.sandbox.child import READY_MARK

MAX_RESULT_BYTES = 64 * 1024     # the child's whole report; more is tampering
TAIL_BYTES = 4096                # stdout/stderr kept for the answer and for diagnostics
CHILD_STATUSES = {"ok", "syntax_error", "runtime_error", "memory_limit", "output_limit", "no_answer"}
ANSWER_KINDS = {"int", "float", "fraction", "decimal", "bool", "str"}


class Watch:
    """Supervise one child: drain its pipes concurrently, enforce wall clock and output cap."""

    def __init__(self, pid: int, fds: list[int], output_cap: int, deadline: float):
        self.pid = pid
        self.fds = fds                                  # stdout, stderr, result
        self.output_cap = output_cap
        self.deadline = deadline
        self.buffers = [bytearray(), bytearray(), bytearray()]
        self.output_total = 0
        self.timed_out = self.over_output = self.result_overflow = False
        self.killed = False

    def kill(self) -> None:
        if self.killed:
            return
        self.killed = True
        try:
            os.killpg(self.pid, signal.SIGKILL)   # the child's group: pgid == pid after setsid
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.kill(self.pid, signal.SIGKILL)     # before setsid the group does not exist yet
        except ProcessLookupError:
            pass

    def run(self) -> None:
        pidfd = os.pidfd_open(self.pid)
        poller = select.poll()
        open_fds = {fd: index for index, fd in enumerate(self.fds)}
        for fd in open_fds:
            poller.register(fd, select.POLLIN)
        poller.register(pidfd, select.POLLIN)
        exited = False
        try:
            while open_fds or not exited:
                remaining = self.deadline - time.monotonic()
                if remaining <= 0 and not self.killed:
                    self.timed_out = True
                    self.kill()
                timeout = None if self.killed else max(remaining, 0) * 1000
                for fd, _ in poller.poll(timeout):
                    if fd == pidfd:
                        exited = True
                        poller.unregister(pidfd)
                        continue
                    data = os.read(fd, 65536)
                    if not data:
                        poller.unregister(fd)
                        del open_fds[fd]
                        continue
                    self._take(open_fds[fd], data)
            self.kill_stragglers()
        finally:
            os.close(pidfd)

    def _take(self, index: int, data: bytes) -> None:
        buffer = self.buffers[index]
        if index == 2:
            if len(buffer) + len(data) > MAX_RESULT_BYTES:
                self.result_overflow = True
                self.kill()
                return
            buffer += data
            return
        self.output_total += len(data)
        buffer += data
        if len(buffer) > 2 * TAIL_BYTES:
            del buffer[:-TAIL_BYTES]
        if self.output_total > self.output_cap and not self.over_output:
            self.over_output = True
            self.kill()

    def kill_stragglers(self) -> None:
        # Nothing can fork under seccomp, but if a layer were ever off, leave no process behind.
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def tail(self, index: int) -> str:
        return bytes(self.buffers[index][-1024:]).decode("utf-8", "replace")

    def last_line(self) -> str | None:
        lines = [line.strip() for line in bytes(self.buffers[0][-TAIL_BYTES:]).decode("utf-8", "replace").splitlines()]
        lines = [line for line in lines if line]
        return lines[-1] if lines else None


def classify(watch: Watch, wait_status: int, cpu_ms: float, limits: Any) -> dict[str, Any]:
    # One detail for both limits: which fires first depends on how busy the machine is, and
    # verify's output must not depend on that (only cpu_ms/wall_ms may).
    time_limit = {"status": "timeout",
                  "detail": f"time limit reached ({limits.cpu_seconds} s CPU or {limits.wall_seconds:g} s wall)"}
    if watch.timed_out:
        return time_limit
    if watch.over_output:
        return {"status": "output_limit", "detail": f"more than {limits.output_bytes} bytes of output"}
    if watch.result_overflow:
        return {"status": "no_answer", "detail": "result channel tampered: more than 64 KiB written to it"}
    if os.WIFSIGNALED(wait_status):
        signum = os.WTERMSIG(wait_status)
        if signum == signal.SIGXCPU or (signum == signal.SIGKILL and cpu_ms >= limits.cpu_seconds * 1000):
            return time_limit
        if signum == signal.SIGXFSZ:
            return {"status": "output_limit", "detail": "file larger than the policy allows"}
        name = signal.Signals(signum).name if signum in signal.Signals._value2member_map_ else str(signum)
        reason = " (seccomp)" if signum == signal.SIGSYS else ""
        return {"status": "killed", "detail": f"killed by {name}{reason}"}
    exit_code = os.WEXITSTATUS(wait_status)
    raw = bytes(watch.buffers[2])
    if not raw.startswith(READY_MARK):
        message = _parse_child_message(raw, {"sandbox_error"})
        if message is not None:
            return message
        return {"status": "sandbox_error", "detail": f"child exited with code {exit_code} during set-up"}
    body = raw[len(READY_MARK):]
    if not body:
        if exit_code != 0:
            return {"status": "no_answer", "detail": f"program exited with code {exit_code} before reporting"}
        return {"status": "no_answer", "detail": "program ended the process before reporting an answer"}
    message = _parse_child_message(body, CHILD_STATUSES)
    if message is None:
        return {"status": "no_answer", "detail": "result channel tampered: malformed or repeated report"}
    if exit_code != 0:
        return {"status": "no_answer", "detail": f"program exited with code {exit_code} before reporting"}
    if message.pop("answer_from", None) == "stdout":
        line = watch.last_line()
        if line is None:
            return {"status": "no_answer",
                    "detail": "no solution(), no answer/ans/result variable, and nothing printed"}
        message["answer"] = ["str", line[: limits.answer_chars]]
    return message


def _parse_child_message(raw: bytes, statuses: set[str]) -> dict[str, Any] | None:
    """Exactly one JSON object line with known keys and types; anything else is None."""
    if raw.count(b"\n") != 1 or not raw.endswith(b"\n"):
        return None
    try:
        message = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(message, dict) or message.get("status") not in statuses:
        return None
    clean: dict[str, Any] = {"status": message["status"]}
    for key in ("detail", "exc_type"):
        if key in message:
            if not isinstance(message[key], str):
                return None
            clean[key] = message[key][:300]
    if "answer" in message:
        answer = message["answer"]
        if not (isinstance(answer, list) and len(answer) == 2 and answer[0] in ANSWER_KINDS
                and isinstance(answer[1], str) and len(answer[1]) <= 5000):
            return None
        clean["answer"] = answer
    if message.get("answer_from") == "stdout":
        clean["answer_from"] = "stdout"
    if set(message) - {"status", "detail", "exc_type", "answer", "answer_from"}:
        return None
    if clean["status"] == "ok" and "answer" not in clean and "answer_from" not in clean:
        return None
    return clean
