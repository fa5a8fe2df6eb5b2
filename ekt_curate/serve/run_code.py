"""SandboxFusion's /run_code on our sandbox: a plain run of one Python program.

The response has SandboxFusion's shape exactly (their clients parse it with their own models):
``status`` is ``Success`` when the program exited 0, ``Failed`` when it did not (an error, a
time limit, a language we do not run), ``SandboxError`` only for a fault of ours, which their
clients retry. ``run_result.status``: ``Finished`` (whatever the exit code), ``TimeLimitExceeded``.

Limits: a request's ``run_timeout`` shortens the policy's wall clock, never lengthens it; the CPU,
memory and output limits are the server's policy (``memory_limit_MB`` is accepted and capped by
it). The program has no network, as under `verify`.
"""

from __future__ import annotations

import base64
import binascii
import os
import posixpath
from typing import Any

from ekt_curate.sandbox.program import Program
from ekt_curate.sandbox.result import Result, Status

LANGUAGES = ("python", "python3")
MAX_FILES = 64


class BadField(ValueError):
    """A request field we cannot use: answered 422 with its name."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def program_of(request: Any) -> Program | None:
    """The Program a /run_code request asks for; None for a language this server does not run."""
    if request.language not in LANGUAGES:
        return None
    if len(request.files) > MAX_FILES:
        raise BadField("files", f"at most {MAX_FILES} files")
    files = []
    for path, data in request.files.items():
        clean = posixpath.normpath(path)
        if not path or path.startswith("/") or clean.startswith(".."):
            raise BadField(f"files.{path}", "a relative path inside the program's folder is required")
        try:
            files.append((clean, base64.b64decode(data or "", validate=True)))
        except (binascii.Error, ValueError):
            raise BadField(f"files.{path}", "not base64") from None
    if len(request.fetch_files) > MAX_FILES:
        raise BadField("fetch_files", f"at most {MAX_FILES} files")
    return Program(request.code, stdin=(request.stdin or "").encode("utf-8", "surrogatepass") or None, run=True,
                   files=tuple(files), wall_seconds=request.run_timeout, fetch=tuple(request.fetch_files))


def unsupported_language(language: str) -> dict[str, Any]:
    return {"status": "Failed", "message": f"language {language!r} is not run here: this server runs Python "
            f"({', '.join(LANGUAGES)})", "compile_result": None, "run_result": None,
            "executor_pod_name": _pod(), "files": {}}


def response_of(result: Result) -> dict[str, Any]:
    """A sandbox Result in SandboxFusion's RunCodeResponse shape."""
    if result.status is Status.SANDBOX_ERROR:
        return {"status": "SandboxError", "message": result.detail, "compile_result": None, "run_result": None,
                "executor_pod_name": _pod(), "files": {}}
    timed_out = result.status is Status.TIMEOUT
    code = result.exit_code
    if code is None and not timed_out:  # refused before it ran (a program over the size limit)
        code = 1
    run = {"status": "TimeLimitExceeded" if timed_out else "Finished", "execution_time": result.wall_ms / 1000,
           "cpu_time": result.cpu_ms / 1000, "return_code": code,
           "stdout": result.stdout if result.stdout is not None else result.stdout_tail,
           "stderr": result.stderr if result.stderr is not None else result.stderr_tail or result.detail}
    success = not timed_out and code == 0
    return {"status": "Success" if success else "Failed", "message": "" if success else result.detail,
            "compile_result": None, "run_result": run, "executor_pod_name": _pod(), "files": result.files or {}}


def _pod() -> str | None:
    return os.environ.get("MY_POD_NAME")  # as SandboxFusion fills it on Kubernetes
