"""One job as the executor sees it: the pipes to its child, what came back, and the verdict.

The executor makes four pipes per job. The child reads its job from the first (the
executor writes it without blocking, however long the program) and writes stdout,
stderr and its report on the others. ``Job`` keeps only tails of the output, enforces
the output cap, bounds the report, and kills the child through a pidfd (race-free:
a pidfd never names a reused pid). ``classify`` turns what came back and the exit
status into one result from the fixed taxonomy. The child's report is trusted for
nothing but what the program may claim anyway (its answer and its own failure):
set-up failures count only before the ready mark, and anything malformed, repeated,
oversized or deeper than a report can be is ``no_answer``.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import re
import signal
import time
from typing import Any

from ekt_curate.sandbox.child import READY_MARK

MAX_RESULT_BYTES = 64 * 1024     # the child's whole report; more is tampering
MAX_FETCHED = 64                 # files a plain run may send back
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
TAIL_BYTES = 4096                # stdout/stderr kept for the answer and for diagnostics
CHILD_STATUSES = {"ok", "syntax_error", "runtime_error", "memory_limit", "output_limit", "no_answer"}
# A test harness reports from a process the program cannot reach (harness.py), so it may say more.
HARNESS_STATUSES = CHILD_STATUSES | {"timeout", "sandbox_error"}
CASE_STATUSES = {"pass", "wrong_answer", "runtime_error", "timeout", "output_limit", "memory_limit"}
RETURN_STATUSES = {"ok", "runtime_error", "timeout"}
MAX_CASES = 100_000
ANSWER_KINDS = {"int", "float", "fraction", "decimal", "bool", "str"}
F_SETPIPE_SZ = 1031
STDOUT, STDERR, RESULT = 0, 1, 2
# What the child's encoder (answer_value.encode) writes for each kind, and nothing else: a
# program can write its own report, so a forged "1/0" fraction or "nan" float must not
# reach the parent's arithmetic. Magnitudes (Decimal exponents) are bounded by the judge.
_ANSWER_TEXT = {
    "int": re.compile(r"-?[0-9]{1,4300}"),
    "float": re.compile(r"-?(?:[0-9]+\.[0-9]+(?:e[-+][0-9]+)?|[0-9]+e[-+][0-9]+)"),
    "fraction": re.compile(r"-?[0-9]{1,4300}/[1-9][0-9]{0,4299}"),
    "decimal": re.compile(r"-?(?:[0-9]{1,4300}(?:\.[0-9]{1,4300})?|\.[0-9]{1,4300})(?:E[-+]?[0-9]{1,6})?"),
    "bool": re.compile(r"True|False"),
    "str": re.compile(r".*", re.DOTALL),
}


class Job:
    """A program on its way through one worker: sent, started, ended, classified."""

    __slots__ = ("id", "payload", "output_cap", "attempt", "abandoned", "canary", "sent", "started", "deadline",
                 "exited_at", "pid", "pidfd", "end", "failed_errno", "buffers", "trimmed", "output_total",
                 "timed_out", "over_output", "result_overflow", "killed", "killed_at", "writer", "readers",
                 "written", "keep_output", "result_cap", "harnessed", "plain", "wall")

    def __init__(self, job_id: int, payload: bytes, output_cap: int, attempt: int = 1, keep_output: bool = False,
                 result_cap: int | None = None, harnessed: bool = False, plain: bool = False,
                 wall: float | None = None):
        self.id = job_id
        self.payload = payload
        self.output_cap = output_cap
        self.attempt = attempt
        self.keep_output = keep_output    # the whole stdout (up to output_cap), not only its tail
        self.plain = plain                # a plain run: stderr kept whole too, and the exit code reported
        self.wall = wall                  # its own wall clock, below the policy's (None: the policy's)
        self.result_cap = max(result_cap or 0, MAX_RESULT_BYTES)  # a test harness reports return values
        self.harnessed = harnessed        # the report comes from a test harness process (harness.py)
        self.abandoned = False            # its result is no longer wanted
        self.canary = False               # the executor's own probe of a fresh zygote
        self.sent = 0.0                   # monotonic time the zygote was asked to fork it
        self.started = 0.0                # ... the zygote reported the fork
        self.deadline = 0.0
        self.exited_at = 0.0              # the child is gone (its pipes closed, or the zygote said so)
        self.pid = 0
        self.pidfd: int | None = None
        self.end: tuple[int, float, float] | None = None  # (wait status, CPU ms, wall ms) from the zygote
        self.failed_errno: int | None = None
        self.buffers = [bytearray(), bytearray(), bytearray()]
        self.trimmed = [False, False]     # stdout/stderr lost their beginning
        self.output_total = 0
        self.timed_out = self.over_output = self.result_overflow = self.killed = False
        self.killed_at = 0.0
        self.writer: int | None = None    # job pipe, executor side, until the job is written
        self.readers: dict[int, int] = {} # fd -> STDOUT | STDERR | RESULT, until EOF
        self.written = 0

    def open_pipes(self) -> list[int]:
        """Make the four pipes; return the child's ends (the caller sends, then closes them)."""
        # One F_SETFL each (not os.set_blocking's get-then-set): the executor's ends never
        # block, the child's always do (a full stdout pipe must stall the program, not fail it).
        opened: list[int] = []
        try:
            return self._open_pipes(opened)
        except OSError:  # out of descriptors (EMFILE): none of this job's may stay open
            for fd in opened:
                try:
                    os.close(fd)
                except OSError:
                    pass
            self.readers.clear()
            self.writer = None
            raise

    def _open_pipes(self, opened: list[int]) -> list[int]:
        job_r, job_w = os.pipe2(os.O_CLOEXEC)
        opened += (job_r, job_w)
        fcntl.fcntl(job_w, fcntl.F_SETFL, os.O_NONBLOCK)
        if len(self.payload) > 65536:  # room for the whole job when the kernel allows it
            try:
                fcntl.fcntl(job_w, F_SETPIPE_SZ, min(len(self.payload), 1 << 20))
            except OSError:
                pass
        ends = [job_r]
        self.writer = job_w
        for index in (STDOUT, STDERR, RESULT):
            read_end, write_end = os.pipe2(os.O_CLOEXEC)
            opened += (read_end, write_end)
            fcntl.fcntl(read_end, fcntl.F_SETFL, os.O_NONBLOCK)
            self.readers[read_end] = index
            ends.append(write_end)
        return ends

    def write_some(self) -> bool:
        """Write what the pipe takes now; True once the whole job is written (and closed)."""
        assert self.writer is not None
        try:
            while self.written < len(self.payload):
                self.written += os.write(self.writer, memoryview(self.payload)[self.written:self.written + (1 << 20)])
        except BlockingIOError:
            return False
        except OSError:  # the child is gone; what it read is its business
            pass
        self.close_writer()
        return True

    def close_writer(self) -> None:
        if self.writer is not None:
            os.close(self.writer)
            self.writer = None

    def read(self, fd: int) -> bool:
        """Drain one output pipe; True at EOF (the caller unregisters it)."""
        while True:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return False
            if not data:
                del self.readers[fd]
                os.close(fd)
                return True
            self._take(self.readers[fd], data)

    def _take(self, index: int, data: bytes) -> None:
        buffer = self.buffers[index]
        if index == RESULT:
            if len(buffer) + len(data) > self.result_cap:
                self.result_overflow = True
                self.kill()
                return
            buffer += data
            return
        self.output_total += len(data)
        buffer += data
        if len(buffer) > self.output_cap:  # a kept output never holds more than the limit it broke
            del buffer[self.output_cap:]
        if len(buffer) > 2 * TAIL_BYTES and not (self.plain or (self.keep_output and index == STDOUT)):
            del buffer[:-TAIL_BYTES]
            self.trimmed[index] = True
        if self.output_total > self.output_cap and not self.over_output:
            self.over_output = True
            self.kill()

    def again(self, attempt: int) -> "Job":
        """The same job, fresh, to run again on another zygote."""
        return Job(self.id, self.payload, self.output_cap, attempt, self.keep_output, self.result_cap, self.harnessed,
                   self.plain, self.wall)

    def kill(self) -> None:
        """SIGKILL through the pidfd; before the start is reported, as soon as it is."""
        self.killed = True
        if self.pidfd is not None:
            self.killed_at = self.killed_at or time.monotonic()
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass

    @property
    def done(self) -> bool:
        return (self.end is not None or self.failed_errno is not None) and not self.readers

    def close(self) -> list[int]:
        """Close every descriptor still open; return the ones that were (to unregister)."""
        open_fds = list(self.readers)
        for fd in open_fds:
            os.close(fd)
        self.readers.clear()
        if self.writer is not None:
            open_fds.append(self.writer)
            self.close_writer()
        if self.pidfd is not None:
            open_fds.append(self.pidfd)
            os.close(self.pidfd)
            self.pidfd = None
        return open_fds

    def stdout(self, index: int = STDOUT) -> str:
        """The whole of stdout (a job that keeps it; stderr too for a plain run), as text."""
        return _clean_text(bytes(self.buffers[index]).decode("utf-8", "replace"))

    def tail(self, index: int) -> str:
        return _clean_text(bytes(self.buffers[index][-1024:]).decode("utf-8", "replace"))

    def last_line(self) -> tuple[str | None, bool]:
        """The last non-empty stdout line, and whether it is whole (not cut by the tail)."""
        data = bytes(self.buffers[STDOUT])
        stripped = data.rstrip()
        if not stripped.strip():
            return None, True
        start = max(stripped.rfind(b"\n"), stripped.rfind(b"\r")) + 1
        whole = start > 0 or not self.trimmed[STDOUT]
        return _clean_text(stripped[start:].decode("utf-8", "replace").strip()), whole


def classify(job: Job, limits: Any) -> dict[str, Any]:
    message = _classify(job, limits)
    if job.plain and message["status"] != "sandbox_error":
        # a plain run reports what the program wrote however it ended, and how it exited
        message["stdout"], message["stderr"] = job.stdout(), job.stdout(STDERR)
        message["exit_code"] = _exit_code(job, message)
    return message


def _exit_code(job: Job, message: dict[str, Any]) -> int | None:
    """As a shell would see ``python program.py`` end: 0, the program's code, 1 for an uncaught
    exception, minus the signal for one killed; None at a time limit (as SandboxFusion gives)."""
    if message["status"] == "timeout" or job.end is None:
        return None
    if os.WIFSIGNALED(job.end[0]):
        return -os.WTERMSIG(job.end[0])
    if "exit_code" in message:
        return message.pop("exit_code")
    if message["status"] == "ok":
        return 0
    return os.WEXITSTATUS(job.end[0]) or 1


def _classify(job: Job, limits: Any) -> dict[str, Any]:
    if job.failed_errno is not None:
        return {"status": "sandbox_error",
                "detail": f"the zygote could not start the program: {os.strerror(job.failed_errno)}"}
    assert job.end is not None
    wait_status, cpu_ms, _ = job.end
    # One detail for both limits: which fires first depends on how busy the machine is, and
    # verify's output must not depend on that (only cpu_ms/wall_ms may).
    time_limit = {"status": "timeout",
                  "detail": f"time limit reached ({limits.cpu_seconds} s CPU or "
                            f"{min(limits.wall_seconds, job.wall or limits.wall_seconds):g} s wall)"}
    if job.timed_out:
        return time_limit
    if job.over_output:
        return {"status": "output_limit", "detail": f"more than {limits.output_bytes} bytes of output"}
    if job.result_overflow:
        if job.harnessed:
            return {"status": "output_limit",
                    "detail": f"the test harness's report is over {job.result_cap // 1024} KiB (return values too large)"}
        return {"status": "no_answer",
                "detail": f"result channel tampered: more than {job.result_cap // 1024} KiB written to it"}
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
    raw = bytes(job.buffers[RESULT])
    if not raw.startswith(READY_MARK):
        message = _parse_child_message(raw, {"sandbox_error"})
        if message is not None:
            return message
        return {"status": "sandbox_error", "detail": f"child exited with code {exit_code} during set-up"}
    body = raw[len(READY_MARK):]
    if not body:
        if job.plain:  # ended the process itself (os._exit): its own exit code
            return {"status": "ok" if exit_code == 0 else "runtime_error", "exit_code": exit_code,
                    "detail": "" if exit_code == 0 else f"program exited with code {exit_code}"}
        if exit_code != 0:
            return {"status": "no_answer", "detail": f"program exited with code {exit_code} before reporting"}
        if job.keep_output:  # stdin/stdout: only what it printed counts, however it ended
            return {"status": "ok", "stdout": job.stdout()}
        return {"status": "no_answer", "detail": "program ended the process before reporting an answer"}
    message = _parse_child_message(body, HARNESS_STATUSES if job.harnessed else CHILD_STATUSES, limits.answer_chars,
                                   job.harnessed, job.plain)
    if message is None:
        return {"status": "no_answer", "detail": "result channel tampered: malformed or repeated report"}
    if exit_code != 0:
        return {"status": "no_answer", "detail": f"program exited with code {exit_code} before reporting"}
    answer_from = message.pop("answer_from", None)
    if answer_from == "output":
        message["stdout"] = job.stdout()
        return message
    if answer_from == "stdout":
        line, whole = job.last_line()
        if line is None:
            return {"status": "no_answer",
                    "detail": "no solution(), no answer/ans/result variable, and nothing printed"}
        if not whole or len(line) > limits.answer_chars:
            return {"status": "no_answer",
                    "detail": f"the last printed line is longer than {min(limits.answer_chars, TAIL_BYTES)} "
                              "characters: not judged, since a cut value could read differently"}
        message["answer"] = ["str", line]
    return message


def _parse_child_message(raw: bytes, statuses: set[str], answer_chars: int = 5000,
                         harnessed: bool = False, plain: bool = False) -> dict[str, Any] | None:
    """Exactly one JSON object line with known keys and types, and an answer the child's
    encoder can have written (a harness's cases or return values); anything else is None."""
    if raw.count(b"\n") != 1 or not raw.endswith(b"\n"):
        return None
    try:
        message = json.loads(raw, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than any report
        return None
    if not isinstance(message, dict) or message.get("status") not in statuses:
        return None
    clean: dict[str, Any] = {"status": message["status"]}
    for key in ("detail", "exc_type"):
        if key in message:
            if not isinstance(message[key], str):
                return None
            clean[key] = _clean_text(message[key][:300])
    if "answer" in message:
        answer = message["answer"]
        if not (isinstance(answer, list) and len(answer) == 2 and answer[0] in ANSWER_KINDS
                and isinstance(answer[1], str) and len(answer[1]) <= min(answer_chars, 5000)
                and _ANSWER_TEXT[answer[0]].fullmatch(answer[1])
                and (answer[0] != "float" or math.isfinite(float(answer[1])))):
            return None  # a report the child's encoder cannot have written: forged
        clean["answer"] = [answer[0], _clean_text(answer[1])]
    if message.get("answer_from") in ("stdout", "output"):
        clean["answer_from"] = message["answer_from"]
    for key, allowed in (("cases", CASE_STATUSES), ("returns", RETURN_STATUSES)):
        if key in message:
            items = _pairs(message[key], allowed) if harnessed else None
            if items is None:
                return None
            clean[key] = items
    if plain and "exit_code" in message:  # a plain run's SystemExit code
        code = message["exit_code"]
        if not (isinstance(code, str) and 1 <= len(code) <= 3 and code.isdigit() and 1 <= int(code) <= 255):
            return None
        clean["exit_code"] = int(code)
    if plain and "files" in message:  # a plain run's fetched files: [path, base64] pairs
        files = message["files"]
        if not (isinstance(files, list) and len(files) <= MAX_FETCHED and all(
                isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) and len(item[0]) <= 1000
                and isinstance(item[1], str) and _BASE64.fullmatch(item[1]) for item in files)):
            return None
        clean["files"] = {_clean_text(path): data for path, data in files}
    if set(message) - {"status", "detail", "exc_type", "answer", "answer_from", "cases", "returns", "exit_code",
                       "files"}:
        return None
    if clean["status"] == "ok" and not {"answer", "answer_from", "cases", "returns"} & set(clean):
        return None
    return clean


def _pairs(items: Any, statuses: set[str]) -> list[tuple[str, str]] | None:
    """A harness's [status, text] list, or None if it is not one."""
    if not isinstance(items, list) or len(items) > MAX_CASES:
        return None
    pairs = []
    for item in items:
        if not (isinstance(item, list) and len(item) == 2 and item[0] in statuses and isinstance(item[1], str)):
            return None
        pairs.append((item[0], item[1] if item[0] == "ok" else _clean_text(item[1][:300])))
    return pairs


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A key given twice (the last would win silently) is tampering."""
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key")
    return result


def _clean_text(text: str) -> str:
    """Lone surrogates (legal in JSON escapes, not in UTF-8) become U+FFFD, so no report can
    make writing a verdict fail."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
