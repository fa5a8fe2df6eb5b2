"""A stdin/stdout case judged by the dataset's checker program (a special judge), in a test job.

The program process runs the program with fd 0 and 1 on the harness's two pipes (run_program);
the harness process (run_case) streams it the case's input, takes its output up to
``limits.output_bytes``, waits for it to end, and only then reads the expected output from the
job pipe (the tests' second part) and runs ``check(input, expected, output)``, in its own
process, where the program cannot reach. The checker gets the output as text: one that
evaluates it (``eval``) hands the program its verdict, as it would in any judge; parse it.
Standard library only: the zygote imports this.
"""

from __future__ import annotations

import builtins
import os
import select
import signal
import sys
import time
from typing import Any

from ekt_curate.sandbox.harness import STOP_SECONDS, Program, describe
from ekt_curate.sandbox.protocol import read_part

EXIT_MEMORY = 3                # the program process's exit code for a MemoryError
MAX_EXPECTED = 1 << 28

_read, _write, _exit = os.read, os.write, os._exit  # captured before a program can rebind them


def run_program(code: Any, prelude: Any) -> None:
    """A stdin/stdout case judged by a checker: run the program on the harness's pipes (fd 0 and
    1) and exit; its exit status says whether it ended normally. Never returns."""
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    code_out = 0
    try:
        if prelude is not None:
            exec(prelude, namespace)
        exec(code, namespace)
    except SystemExit as exc:
        code_out = 0 if exc.code in (None, 0) else 1
    except MemoryError:
        code_out = EXIT_MEMORY
    except BaseException as exc:  # noqa: BLE001 - its exception, on its stderr
        _write(2, (describe(exc) + "\n").encode("utf-8", "replace"))
        code_out = 1
    try:
        sys.stdout.flush()
    except BaseException:  # noqa: BLE001 - a closed pipe: what was written is what counts
        pass
    _exit(code_out)


def run_case(spec: dict[str, Any], program: Program, wall_seconds: float, cpu_limit: float,
             output_bytes: int) -> dict[str, Any]:
    """The report of one checked case: feed the program its input, take its output (bounded),
    then read the expected output (only now, so how long the harness took to get it tells the
    program nothing) and ask the dataset's checker, ``check(input, expected, output)``: only
    ``True`` passes."""
    return {"status": "ok", "cases": [_case(spec, program, float(spec.get("case_seconds") or wall_seconds),
                                            cpu_limit, output_bytes)]}


def _case(spec: dict[str, Any], program: Program, seconds: float, cpu_limit: float, output_bytes: int) -> list[str]:
    given = str(spec.get("input") or "")
    deadline = time.monotonic() + seconds
    data, output = given.encode("utf-8", "surrogateescape"), bytearray()
    os.set_blocking(program.requests, False)
    writing = program.requests
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return ["timeout", f"no output within {seconds:g} s"]
        readable, writable, _ = select.select([program.replies], [writing] if writing is not None else [], [], left)
        if writable:
            try:
                sent = _write(writing, data[:1 << 16])
                data = data[sent:]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:  # it closed its stdin: what it read is its business
                data = b""
            if not data:
                os.close(writing)
                writing = None
        if readable:
            chunk = _read(program.replies, 1 << 16)
            if not chunk:
                break
            output += chunk
            if len(output) > output_bytes:
                return ["output_limit", f"more than {output_bytes} bytes of output"]
    if writing is not None:
        os.close(writing)
    program.requests = -1  # closed above
    status = program.stop(max(deadline, time.monotonic() + STOP_SECONDS))
    if status is None or (os.WIFSIGNALED(status) and (os.WTERMSIG(status) == signal.SIGXCPU
                                                       or program.cpu_seconds >= cpu_limit)):
        return ["timeout", "time limit reached in the program process"]
    if os.WIFSIGNALED(status):
        return ["runtime_error", f"the program was killed by signal {os.WTERMSIG(status)}"]
    if os.WEXITSTATUS(status) == EXIT_MEMORY:
        return ["memory_limit", "MemoryError"]
    if os.WEXITSTATUS(status) != 0:
        return ["runtime_error", f"the program exited with code {os.WEXITSTATUS(status)} (its stderr says why)"]
    expected_bytes = read_part(0, MAX_EXPECTED)
    expected = expected_bytes.decode("utf-8", "surrogateescape") if expected_bytes is not None else ""
    namespace: dict[str, Any] = {"__name__": "__checker__", "__builtins__": builtins}
    try:
        exec(compile(str(spec["checker"]), "<checker>", "exec", dont_inherit=True), namespace)
        accepted = namespace["check"](given, expected, output.decode("utf-8", "replace"))
    except BaseException as exc:  # noqa: BLE001 - the output made the dataset's checker fail
        return ["wrong_answer", f"the checker raised {describe(exc)}"]
    return ["pass", ""] if accepted is True else ["wrong_answer", "the checker rejected the output"]
