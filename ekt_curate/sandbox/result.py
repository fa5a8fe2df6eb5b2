"""What one sandboxed run produced: a status from a fixed taxonomy, the answer, costs."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from typing import Any

from ekt_curate.sandbox.answer_value import decode


class Status(str, enum.Enum):
    """Executor statuses. ``pass``/``wrong_answer`` are decided later, by verify."""

    OK = "ok"                        # ran to the end and produced an answer
    SYNTAX_ERROR = "syntax_error"    # did not compile (or was rejected before compiling)
    RUNTIME_ERROR = "runtime_error"  # raised; exc_type and detail say what
    TIMEOUT = "timeout"              # wall-clock budget or CPU limit reached
    MEMORY_LIMIT = "memory_limit"    # MemoryError under the address-space limit
    OUTPUT_LIMIT = "output_limit"    # too much stdout/stderr, or a file over the size limit
    KILLED = "killed"                # died on a signal (segfault, abort, seccomp)
    NO_ANSWER = "no_answer"          # ran, but nothing usable came out
    SANDBOX_ERROR = "sandbox_error"  # the sandbox itself failed; never the program's fault

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Result:
    status: Status
    answer_kind: str | None = None   # int | float | fraction | decimal | bool | str
    answer_text: str | None = None   # canonical text of the answer
    exc_type: str | None = None
    detail: str = ""
    cpu_ms: float = 0.0
    wall_ms: float = 0.0
    stdout_tail: str = ""
    stderr_tail: str = ""
    stdout: str | None = None        # the whole stdout, for a Program(output=True) or (run=True)
    stderr: str | None = None        # the whole stderr, for a Program(run=True)
    exit_code: int | None = None     # a Program(run=True)'s exit status (minus a signal; None at a time limit)
    files: dict[str, str] | None = None  # a Program(run=True, fetch=...)'s files, base64
    cases: tuple[tuple[str, str], ...] | None = None    # a test job: (status, detail) per case run
    returns: tuple[tuple[str, str], ...] | None = None  # a call job: ("ok", encoded value) or (status, detail)

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    @property
    def answer(self) -> object:
        """The answer as a plain Python value (int, float, Fraction, Decimal, bool, str) or None."""
        if self.answer_kind is None or self.answer_text is None:
            return None
        return decode(self.answer_kind, self.answer_text)

    def returned(self, index: int) -> object:
        """The value call ``index`` returned, decoded (values.py); NotTransferable if it is not one."""
        from ekt_curate.sandbox.values import decode

        assert self.returns is not None and self.returns[index][0] == "ok"
        return decode(self.returns[index][1])

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_message(cls, msg: dict[str, Any]) -> "Result":
        """Build from the zygote's parsed result line (the zygote validated the child's part)."""
        answer = msg.get("answer")
        return cls(
            status=Status(msg["status"]),
            answer_kind=answer[0] if answer else None,
            answer_text=answer[1] if answer else None,
            exc_type=msg.get("exc_type"),
            detail=msg.get("detail", ""),
            cpu_ms=msg.get("cpu_ms", 0.0),
            wall_ms=msg.get("wall_ms", 0.0),
            stdout_tail=msg.get("stdout_tail", ""),
            stderr_tail=msg.get("stderr_tail", ""),
            stdout=msg.get("stdout"),
            stderr=msg.get("stderr"),
            exit_code=msg.get("exit_code"),
            files=msg.get("files"),
            cases=tuple(tuple(c) for c in msg["cases"]) if "cases" in msg else None,  # type: ignore[misc]
            returns=tuple(tuple(r) for r in msg["returns"]) if "returns" in msg else None,  # type: ignore[misc]
        )

    @classmethod
    def failure(cls, status: Status, detail: str) -> "Result":
        return cls(status=status, detail=detail)
