"""Tests against a program, judged by a process the program cannot reach.

A test job's child forks in two once it is confined (before the program's seccomp filter,
which forbids forking):

- the **program process** runs the program, then serves calls: a request names one of its
  functions (or ``Solution.method``) with arguments, the reply is the return value as exact
  built-in types (values.py) or the exception it raised. It has no report channel, it never
  sees the tests (they are read from the job pipe only after the fork, by the other side), and
  it sits in a Landlock domain of its own, nested, so it cannot signal the other process;
  ptrace is refused to both by seccomp.
- the **harness process** reads the tests, and either calls each function with its arguments
  and reports the decoded return values (call-based cases: the parent compares them with the
  expected outputs, which never enter the sandbox), or runs assert tests in a namespace where
  the program's functions are proxies into the program process. A case passes only when this
  process ran it to its end; the return values an assert sees are plain decoded data, so an
  object whose ``__eq__`` is always true, a patched ``AssertionError``, builtins or
  ``sys.exit``, an early ``exit(0)`` or a forged report in the program process change nothing
  here. Every wait on the program has a deadline (the case's seconds).

Messages between the two are JSON lines on two pipes, at most ``MAX_LINE`` bytes, parsed with
bounds. Standard library only: the zygote imports this.
"""

from __future__ import annotations

import builtins
import json
import os
import select
import signal
import sys
import time
from typing import Any

from ekt_curate.sandbox import values

MAX_LINE = 8 << 20            # one request or reply
STOP_SECONDS = 0.05           # for the program process to leave once its pipes close
DETAIL_CHARS = 300

_read, _write, _exit, _type, _str, _callable = os.read, os.write, os._exit, type, str, callable


class ProgramError(Exception):
    """The function under test raised (its type and message travel as text); one of the builtin
    exceptions is raised as that type instead, so a test that expects a ValueError sees one."""


# Not Exceptions: a test's `except Exception:` must not turn a hang or an exit into a pass.
class ProgramGone(BaseException):
    """The program process ended, or broke the protocol, before answering."""


class CaseTimeout(BaseException):
    """The program did not answer within the case's seconds."""


# -- the program process ---------------------------------------------------------------------
def serve_program(code: Any, prelude: Any, requests: int, replies: int) -> None:
    """Run the program, say what it defined, then answer calls until the pipe closes. Never returns."""
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    try:
        if prelude is not None:
            exec(prelude, namespace)
        exec(code, namespace)
    except SystemExit as exc:
        if exc.code not in (None, 0):
            _send(replies, {"error": ["runtime_error", "SystemExit", f"SystemExit: {_text(exc.code)}"]})
            _exit(0)
    except BaseException as exc:  # noqa: BLE001 - the program's exceptions are data
        _send(replies, {"error": [_status_of(exc), _name(exc), describe(exc)]})
        _exit(0)
    _send(replies, {"ready": _globals_of(namespace)})
    buffer = bytearray()
    while True:
        line = _line(requests, buffer, None)
        if line is None:
            _exit(0)
        try:
            request = json.loads(line)
            function = _function(namespace, request["fn"])
            args, kwargs = values.decode(request["args"]), values.decode(request["kwargs"])
            reply = {"ok": values.encode(function(*args, **kwargs))}
        except values.NotTransferable as exc:
            reply = {"bad": _text(exc)}
        except BaseException as exc:  # noqa: BLE001 - what the function raised, for the test to see
            reply = {"raised": [_name(exc), describe(exc)]}
        _send(replies, reply)


def _function(namespace: dict[str, Any], name: str) -> Any:
    """A global function, or a method of a fresh ``Solution()`` for every call (LeetCode style:
    ``Solution.name``, or a bare name the program only defines on its ``Solution`` class)."""
    owner, _, method = name.rpartition(".")
    if not owner and not _callable(namespace.get(name)) and hasattr(namespace.get("Solution"), name):
        owner = "Solution"
    if owner:
        if not _callable(namespace.get(owner)):
            raise NameError(f"the program defines no class {owner!r}")
        return getattr(namespace[owner](), method)
    if not _callable(namespace.get(name)):
        raise NameError(f"the program defines no function {name!r}")
    return namespace[name]


def _globals_of(namespace: dict[str, Any]) -> dict[str, Any]:
    """What the tests may use: the program's functions (as names), modules (by name) and
    plain values. The harness leaves out names of builtins (so no program can swap ``abs`` or
    ``isinstance`` under a test), but for the function the tests name as theirs."""
    functions, modules, plain = [], {}, {}
    for name, value in list(namespace.items())[:10_000]:
        if _type(name) is not _str or name.startswith("__"):
            continue
        if _type(value) is _type(sys):
            modules[name] = getattr(value, "__name__", "")
        elif _callable(value):
            functions.append(name)
        else:
            try:
                plain[name] = values.encode(value)
            except (values.NotTransferable, ValueError):
                pass
    return {"functions": functions, "modules": modules, "values": plain}


# -- the harness process ---------------------------------------------------------------------
class Program:
    """The harness's side of the pipes: call a function in the program process, with a deadline."""

    def __init__(self, pid: int, requests: int, replies: int):
        self.pid, self.requests, self.replies = pid, requests, replies
        self.buffer = bytearray()
        self.deadline: float | None = None
        self.status: int | None = None   # its wait status, once reaped
        self.cpu_seconds = 0.0
        self.broken: BaseException | None = None  # it timed out or went away: it answers nothing more

    def first_message(self, deadline: float) -> dict[str, Any]:
        self.deadline = deadline
        return self._receive()

    def call(self, name: str, args: tuple, kwargs: dict) -> Any:
        if self.broken is not None:  # late replies must never be paired with later requests
            raise type(self.broken)(*self.broken.args)
        try:
            return self._call(name, args, kwargs)
        except (ProgramGone, CaseTimeout) as exc:
            self.broken = exc
            raise

    def _call(self, name: str, args: tuple, kwargs: dict) -> Any:
        try:
            request = {"fn": name, "args": values.encode(list(args)), "kwargs": values.encode(kwargs)}
        except values.NotTransferable as exc:
            raise ProgramError(f"the test passed a value that cannot reach the program: {exc}") from None
        if not _send(self.requests, request):
            raise ProgramGone("the program process has ended")
        reply = self._receive()
        if "ok" in reply and _type(reply["ok"]) is _str:
            try:
                return values.decode(reply["ok"])
            except values.NotTransferable as exc:
                raise ProgramError(f"{name} returned a value that is not plain data: {exc}") from None
        if "raised" in reply and _type(reply["raised"]) is list and len(reply["raised"]) == 2:
            kind = getattr(builtins, _text(reply["raised"][0]), None)
            if _type(kind) is type and issubclass(kind, Exception) and kind.__module__ == "builtins":
                raise kind(_text(reply["raised"][1]).split(": ", 1)[-1])
            raise ProgramError(f"{_text(reply['raised'][1])}")
        if "bad" in reply:
            raise ProgramError(f"{name} returned a value that is not plain data: {_text(reply['bad'])}")
        raise ProgramGone("the program process broke the protocol")

    def _receive(self) -> dict[str, Any]:
        line = _line(self.replies, self.buffer, self.deadline)
        if line is None:
            raise ProgramGone("the program process ended before answering")
        try:
            message = json.loads(line)
        except (ValueError, RecursionError):
            raise ProgramGone("the program process broke the protocol") from None
        if _type(message) is not dict:
            raise ProgramGone("the program process broke the protocol")
        return message

    def stop(self, deadline: float | None = None) -> int | None:
        """End the program process: it leaves its serving loop when the requests pipe closes, and a
        stuck one dies with the harness (its parent-death signal). Its wait status, if it ended
        by ``deadline`` (default: a moment from now)."""
        for fd in (self.requests, self.replies):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.requests = self.replies = -1
        deadline = time.monotonic() + STOP_SECONDS if deadline is None else deadline
        while self.status is None and time.monotonic() < deadline:
            try:
                pid, status, usage = os.wait4(self.pid, os.WNOHANG)
            except ChildProcessError:
                break
            if pid:
                self.status, self.cpu_seconds = status, usage.ru_utime + usage.ru_stime
                break
            time.sleep(0.0005)
        return self.status


def run_tests(spec: dict[str, Any], program: Program, wall_seconds: float, cpu_seconds: float) -> dict[str, Any]:
    """The report: the program's own failure, or one [status, detail] per case run, in order."""
    try:
        first = program.first_message(time.monotonic() + wall_seconds)
    except CaseTimeout:
        return {"status": "timeout", "detail": "the program's top level did not finish"}
    except ProgramGone as exc:
        return _ended_early(program, _text(exc), cpu_seconds)
    if "error" in first:
        status, exc_type, detail = (list(first["error"]) + ["", "", ""])[:3]
        status = status if status in ("syntax_error", "runtime_error", "memory_limit") else "runtime_error"
        return {"status": status, "exc_type": _text(exc_type)[:100], "detail": _text(detail)}
    ready = _checked_ready(first.get("ready"))
    if ready is None:
        return {"status": "no_answer", "detail": "the program process broke the protocol"}
    seconds = float(spec.get("case_seconds") or wall_seconds)
    if "calls" in spec:
        return {"status": "ok", "returns": _run_calls(spec["calls"], program, seconds, cpu_seconds)}
    return {"status": "ok", "cases": _run_asserts(spec, ready, program, seconds, cpu_seconds)}


def _gone(program: Program, exc: BaseException, cpu_limit: float) -> list[str]:
    """How a case ended when the program process went away: its CPU limit is a timeout."""
    status = program.stop()
    if status is not None and os.WIFSIGNALED(status) and (
            os.WTERMSIG(status) == signal.SIGXCPU or program.cpu_seconds >= cpu_limit):
        return ["timeout", "time limit reached in the program process"]
    return ["runtime_error", _text(exc)]


def _checked_ready(ready: Any) -> dict[str, Any] | None:
    """The program's `ready` message, if it has the shape _globals_of writes (it is untrusted)."""
    if _type(ready) is not dict:
        return None
    functions, modules, plain = ready.get("functions", []), ready.get("modules", {}), ready.get("values", {})
    if not (_type(functions) is list and all(_type(name) is _str for name in functions)
            and _type(modules) is dict and all(_type(v) is _str for v in modules.values())
            and _type(plain) is dict and all(_type(v) is _str for v in plain.values())):
        return None
    return {"functions": functions[:10_000], "modules": modules, "values": plain}


def _run_calls(calls: list[dict[str, Any]], program: Program, seconds: float, cpu_limit: float) -> list[list[str]]:
    """Each call's return value (encoded), or how it failed; after a timeout or the program's
    end, nothing more can be asked of it."""
    returns: list[list[str]] = []
    for call in calls:
        program.deadline = time.monotonic() + seconds
        try:
            value = program.call(call["fn"], tuple(values.decode(call["args"])), {})
            returns.append(["ok", values.encode(value)])
        except ProgramError as exc:
            returns.append(["runtime_error", _text(exc)])
        except Exception as exc:  # noqa: BLE001 - a builtin exception the function raised (ValueError)
            returns.append(["runtime_error", describe(exc)])
        except CaseTimeout:
            returns.append(["timeout", f"no answer within {seconds:g} s"])
            break
        except ProgramGone as exc:
            returns.append(_gone(program, exc, cpu_limit))
            break
    return returns


def _run_asserts(spec: dict[str, Any], ready: dict[str, Any], program: Program, seconds: float,
                 cpu_limit: float) -> list[list[str]]:
    """The tests' namespace: what the program defined (its functions as proxies; never a builtin's
    name), then the trusted setup over it (HumanEval's prompt: its helpers are the dataset's, not
    the program's), then the entry point, the tests' own choice of function, bound last."""
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    for name, module in ready["modules"].items():
        if module in sys.modules and not hasattr(builtins, name):
            namespace[name] = sys.modules[module]
    for name, text in ready["values"].items():
        if not hasattr(builtins, name):
            try:
                namespace[name] = values.decode(text)
            except values.NotTransferable:
                pass
    for name in ready["functions"]:
        if not hasattr(builtins, name):
            namespace[name] = _proxy(program, name)
    entry = spec.get("entry")
    results: list[list[str]] = []
    sources = [spec.get("setup") or ""] + list(spec["cases"])
    for index, source in enumerate(sources):
        program.deadline = time.monotonic() + seconds
        gone = False  # the program process cannot answer any more: no later case can run
        if index == 1 and _type(entry) is _str and entry in ready["functions"]:
            namespace[entry] = _proxy(program, entry)  # over the setup's stub of it (HumanEval's prompt)
        try:
            exec(compile(source, "<test>", "exec", dont_inherit=True), namespace)
            outcome = ["pass", ""]
        except AssertionError as exc:
            outcome = ["wrong_answer", f"assertion failed{': ' + _text(exc) if _text(exc) else ''}"]
        except ProgramError as exc:
            outcome = ["runtime_error", _text(exc)]
        except CaseTimeout:
            outcome, gone = ["timeout", f"no answer within {seconds:g} s"], True
        except ProgramGone as exc:
            outcome, gone = _gone(program, exc, cpu_limit), True
        except BaseException as exc:  # noqa: BLE001 - the test itself failed (a NameError: no such function)
            outcome = ["runtime_error", describe(exc)]
        if program.broken is not None and outcome[0] == "pass":  # the test caught the hang or the exit
            broken = program.broken
            outcome = ["timeout", f"no answer within {seconds:g} s"] if isinstance(broken, CaseTimeout) else \
                _gone(program, broken, cpu_limit)
        gone = gone or program.broken is not None
        if index == 0:  # the setup is no case of its own: a failing setup fails the first case
            if outcome[0] != "pass":
                return [outcome]
            continue
        results.append(outcome)
        if gone or (outcome[0] != "pass" and not spec.get("all_cases")):
            break
    return results


def _proxy(program: Program, name: str) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        return program.call(name, args, kwargs)

    call.__name__ = call.__qualname__ = name
    return call


def _ended_early(program: Program, why: str, cpu_limit: float) -> dict[str, Any]:
    status = program.stop()
    if status is None:
        return {"status": "no_answer", "detail": f"{why}: no test ran"}
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        # RLIMIT_CPU sends SIGXCPU, then SIGKILL a second later; a SIGKILL before that is not the limit
        if signum == signal.SIGXCPU or (signum == signal.SIGKILL and program.cpu_seconds >= cpu_limit):
            return {"status": "timeout", "detail": "time limit reached in the program process"}
        return {"status": "runtime_error", "detail": f"the program process was killed by signal {signum}"}
    return {"status": "no_answer", "detail": f"{why} (exit code {os.WEXITSTATUS(status)}): no test ran"}


# -- both sides --------------------------------------------------------------------------------
def _send(fd: int, message: dict[str, Any]) -> bool:
    data = memoryview((json.dumps(message, ensure_ascii=True) + "\n").encode())
    while data:
        try:
            data = data[_write(fd, data):]
        except InterruptedError:
            continue
        except OSError:
            return False
    return True


def _line(fd: int, buffer: bytearray, deadline: float | None) -> bytes | None:
    """The next line (without its newline), or None at EOF; CaseTimeout past the deadline."""
    while True:
        end = buffer.find(b"\n")
        if end != -1:
            line = bytes(buffer[:end])
            del buffer[:end + 1]
            return line
        if len(buffer) > MAX_LINE:
            return None
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise CaseTimeout
        try:
            chunk = _read(fd, 1 << 16)
        except InterruptedError:
            continue
        if not chunk:
            return None
        buffer += chunk


def _status_of(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return "memory_limit"
    return "runtime_error"


def _name(exc: BaseException) -> str:
    name = getattr(_type(exc), "__name__", "Exception")
    return name[:100] if _type(name) is _str else "Exception"


def describe(exc: BaseException) -> str:
    text = _text(exc)
    return f"{_name(exc)}: {text}"[:DETAIL_CHARS] if text else _name(exc)


def _text(value: object) -> str:
    try:
        text = _str(value)
    except BaseException:  # noqa: BLE001 - a hostile __str__
        return "<unprintable>"
    return text[:DETAIL_CHARS] if _type(text) is _str else "<unprintable>"
