"""What to run and how: a program's code, and for tests its stdin, calls or assert tests.

``Sandbox.map`` takes plain strings (a program whose answer is judged) or ``Program``:

- ``Program(code, stdin=b"...", output=True)``: the program reads ``stdin`` on fd 0 and its
  whole stdout (up to ``limits.output_bytes``) comes back as ``Result.stdout``, for a parent
  that compares it with an expected output the sandbox never sees (stdin/stdout cases).
- ``Program(code, stdin=b"...", run=True)``: a plain run, as a code-execution service gives
  one: the whole stdout and stderr (together up to ``limits.output_bytes``) and the exit code
  come back (``Result.stdout``, ``Result.stderr``, ``Result.exit_code``); an uncaught exception
  prints its traceback to stderr and exits 1, as ``python program.py`` does.
- ``Program(code, calls=(Call("f", (1, 2)), ...))``: after the program, a harness process calls
  each function with its arguments (``"Solution.f"``: a fresh ``Solution()`` each time) and
  ``Result.returns`` holds what each returned, as plain values, or how it failed.
- ``Program(code, tests=("assert f(1) == 2", ...), setup=...)``: the assert tests run in the
  harness process, against proxies of the program's functions; ``Result.cases`` says how each
  case ended. Stops at the first failing case unless ``all_cases``.

See harness.py for why neither the expected outputs nor the tests can be reached by the program.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from ekt_curate.sandbox import values


@dataclass(frozen=True)
class Call:
    function: str                         # a global function, or "Solution.method"
    args: tuple[Any, ...] = ()            # exact built-in values (JSON-decoded test inputs)


@dataclass(frozen=True)
class Program:
    code: str
    stdin: bytes | None = None            # fd 0 (None: empty)
    output: bool = False                  # keep the whole stdout in Result.stdout
    calls: tuple[Call, ...] = ()
    tests: tuple[str, ...] = ()           # assert tests, one case each
    setup: str = ""                       # run before the tests (MBPP's test_setup_code)
    entry: str | None = None              # the function the tests name as theirs: bound even if a builtin's name
    all_cases: bool = False               # run every case, not only up to the first failure
    case_seconds: float | None = None     # a case's limit in the harness (default: the wall limit)
    checker: str | None = None            # stdin/stdout judged by this check(input, expected, output)
    expected: str | None = None           # the expected output the checker is given (never the program)
    run: bool = False                     # a plain run: stdout, stderr and exit code, nothing judged
    files: tuple[tuple[str, bytes], ...] = ()  # written into the scratch folder (relative paths) before it runs
    wall_seconds: float | None = None     # a shorter wall clock than the policy's (never a longer one)
    fetch: tuple[str, ...] = ()           # a plain run's files read back after it (Result.files)

    @property
    def keeps_output(self) -> bool:
        return self.output or self.run

    @property
    def harnessed(self) -> bool:
        return bool(self.calls or self.tests or self.checker)

    def payload(self, code: str, answer: str, prelude: str | None) -> bytes:
        """What the job pipe carries: a 4-byte length and the header (JSON, ASCII: a lone surrogate
        travels as an escape and fails to compile there), then the tests (read by the harness
        process only, after its fork) or the program's stdin (streamed as it reads)."""
        body: dict[str, Any] = {"code": code, "answer": "run" if self.run else "output" if self.output else answer}
        if prelude is not None:
            body["prelude"] = prelude
        if self.fetch:
            body["fetch"] = list(self.fetch)
        if self.files:  # written by the confined child itself, so a path can reach nothing the program cannot
            body["files"] = [[path, base64.b64encode(data).decode("ascii")] for path, data in self.files]
        rest = b""
        if self.harnessed:
            body["tests"] = True
            part = self.tests_part()
            rest = len(part).to_bytes(4, "big") + part
            if self.checker:  # the expected output last: read by the harness once the program is done
                body["checked"] = True
                expected = (self.expected or "").encode("utf-8", "surrogateescape")
                rest += len(expected).to_bytes(4, "big") + expected
        elif self.stdin:
            body["stdin"] = True
            rest = self.stdin
        header = json.dumps(body).encode("ascii")
        return len(header).to_bytes(4, "big") + header + rest

    def tests_part(self) -> bytes:
        """The JSON the harness process reads after the fork (never the program process)."""
        spec: dict[str, Any] = {"case_seconds": self.case_seconds, "all_cases": self.all_cases}
        if self.checker:  # the input as text that keeps any bytes (surrogateescape): a program may read binary
            spec.update(checker=self.checker, input=(self.stdin or b"").decode("utf-8", "surrogateescape"))
        elif self.calls:
            spec["calls"] = [{"fn": call.function, "args": values.encode(list(call.args))} for call in self.calls]
        else:
            spec["tests"], spec["cases"], spec["setup"], spec["entry"] = True, list(self.tests), self.setup, self.entry
        return json.dumps(spec, ensure_ascii=True).encode("ascii")
