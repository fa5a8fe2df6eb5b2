"""``Sandbox``: the public executor API, used by the CLI and as a library.

    with Sandbox("default", workers=2) as box:
        box.run("answer = 6 * 7").answer          # 42
        for result in box.map(programs):          # input order, all workers busy
            ...

Each worker is one zygote process (see zygote.py). ``map`` streams: it reads
its input lazily and keeps at most ``depth`` jobs queued per worker, so memory
stays constant on any input size.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

from ekt_curate.sandbox.errors import LayerUnavailable, SandboxError
from ekt_curate.sandbox.policy import Policy, load_policy
from ekt_curate.sandbox.program_text import extract_program
from ekt_curate.sandbox.result import Result, Status

ANSWER_MODES = ("auto", "solution", "stdout")  # plus "var:NAME"
_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from ekt_curate.sandbox.zygote import main; main()"
# The zygote gets this environment and nothing else of the caller's (no tokens, no paths).
_ZYGOTE_ENV = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}


def _imports_of(source: str | None) -> list[str]:
    """Top-level imports of a prelude, preloaded in the zygote so they cost children nothing."""
    if not source:
        return []
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise SandboxError(f"prelude does not parse: line {exc.lineno}: {exc.msg}") from None
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return names


def check_answer_mode(mode: str) -> str:
    if mode in ANSWER_MODES or (mode.startswith("var:") and mode[4:].isidentifier()):
        return mode
    raise SandboxError(f"unknown answer convention {mode!r}: use auto, solution, stdout or var:NAME")


def default_workers() -> int:
    return len(os.sched_getaffinity(0))


class _Worker:
    """The caller's handle on one zygote process."""

    def __init__(self, index: int, proc: subprocess.Popen[bytes], errors: IO[bytes]):
        self.index = index
        self.proc = proc
        self.errors = errors
        self.buffer = b""
        self.in_flight: list[int] = []
        self.layers: dict[str, str] = {}

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send(self, job: dict[str, Any]) -> None:
        data = json.dumps(job, ensure_ascii=False).encode("utf-8", "surrogatepass")
        assert self.proc.stdin is not None
        self.proc.stdin.write(len(data).to_bytes(4, "big") + data)
        self.proc.stdin.flush()
        self.in_flight.append(job["id"])

    def read_lines(self) -> list[bytes] | None:
        """Complete lines available now; None when the zygote has gone away."""
        assert self.proc.stdout is not None
        chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
        if not chunk:
            return None
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        return lines

    def stderr_text(self) -> str:
        self.errors.seek(0)
        return self.errors.read().decode("utf-8", "replace").strip()


class Sandbox:
    """Run untrusted programs under a policy; see the module docstring."""

    def __init__(self, policy: Policy | str = "default", *, workers: int | None = None,
                 prelude: str | None = None, answer: str = "auto", depth: int = 2):
        self.policy = load_policy(policy)
        self.workers = workers or default_workers()
        if self.workers < 1:
            raise SandboxError("workers must be at least 1")
        self.prelude = prelude
        self.answer = check_answer_mode(answer)
        self.depth = depth
        self._workers: list[_Worker] = []
        self._scratch_root: str | None = None
        self._seccomp: dict[str, str] = {}
        self._next_id = 0

    # -- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> "Sandbox":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        if self._workers:
            return
        self._seccomp = self._compile_seccomp()
        # tmpfs when there is one: creating and removing a directory per program costs
        # ~10 us there and ~95 us on a disk file system.
        shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
        self._scratch_root = tempfile.mkdtemp(prefix="ekt-sandbox-", dir=shm)
        os.chmod(self._scratch_root, 0o711)  # the sandbox uid must reach its own job directory
        pending: list[_Worker] = []
        try:
            for index in range(self.workers):  # start them all, then wait: they boot in parallel
                pending.append(self._spawn(index))
            self._workers = [self._handshake(worker) for worker in pending]
        except BaseException:
            for worker in pending:  # whichever started, handshaken or not
                worker.proc.kill()
                self._stop(worker)
            self._workers = []
            self.close()
            raise

    def close(self) -> None:
        for worker in self._workers:
            self._stop(worker)
        self._workers = []
        if self._scratch_root:
            shutil.rmtree(self._scratch_root, ignore_errors=True)
            self._scratch_root = None

    @property
    def layers(self) -> dict[str, str]:
        """What each isolation layer is doing, as the zygotes reported it at start."""
        return dict(self._workers[0].layers) if self._workers else {}

    @property
    def zygote_pids(self) -> list[int]:
        return [worker.pid for worker in self._workers]

    # -- running programs ---------------------------------------------------------------------
    def run(self, code: str, prelude: str | None = None, answer: str | None = None) -> Result:
        return next(self.map([code], prelude=prelude, answer=answer))

    def map(self, codes: Iterable[str], prelude: str | None = None, answer: str | None = None) -> Iterator[Result]:
        """Yield one Result per program, in input order, keeping every worker busy."""
        if not self._workers:
            self.start()
        answer = check_answer_mode(answer) if answer else None
        source = iter(codes)
        results: dict[int, Result] = {}
        first_id = self._next_id
        next_out = first_id
        exhausted = False
        selector = selectors.DefaultSelector()
        try:
            for worker in self._workers:
                selector.register(worker.proc.stdout, selectors.EVENT_READ, worker)  # type: ignore[arg-type]
            while True:
                exhausted = self._feed(source, results, prelude, answer) or exhausted
                while next_out in results:
                    yield results.pop(next_out)
                    next_out += 1
                if exhausted and next_out == self._next_id:
                    return
                for key, _ in selector.select():
                    worker = key.data
                    lines = worker.read_lines()
                    if lines is None:
                        selector.unregister(worker.proc.stdout)
                        replacement = self._replace(worker, results)
                        selector.register(replacement.proc.stdout, selectors.EVENT_READ, replacement)  # type: ignore[arg-type]
                        continue
                    for line in lines:
                        message = json.loads(line)
                        job_id = message.pop("id")
                        worker.in_flight.remove(job_id)
                        results[job_id] = Result.from_message(message)
        finally:
            selector.close()
            if next_out != self._next_id:  # abandoned mid-way: finish in-flight jobs so ids stay aligned
                self._drain()

    def _feed(self, source: Iterator[str], results: dict[int, Result], prelude: str | None,
              answer: str | None) -> bool:
        """Queue jobs on every worker with room; True once the input is exhausted."""
        for worker in sorted(self._workers, key=lambda w: len(w.in_flight)):
            while len(worker.in_flight) < self.depth:
                try:
                    code = next(source)
                except StopIteration:
                    return True
                job_id = self._next_id
                self._next_id += 1
                program = extract_program(code)
                if len(program.encode("utf-8", "surrogatepass")) > self.policy.limits.program_bytes:
                    results[job_id] = Result.failure(
                        Status.SYNTAX_ERROR, f"program larger than {self.policy.limits.program_bytes} bytes")
                    continue
                job: dict[str, Any] = {"id": job_id, "code": program}
                if answer:
                    job["answer"] = answer
                if prelude is not None:
                    job["prelude"] = prelude
                worker.send(job)
        return False

    def _drain(self) -> None:
        for worker in self._workers:
            while worker.in_flight and worker.proc.stdout and not worker.proc.stdout.closed:
                lines = worker.read_lines()
                if lines is None:
                    break
                for line in lines:
                    worker.in_flight.remove(json.loads(line)["id"])

    # -- zygote management --------------------------------------------------------------------
    def _spawn(self, index: int) -> _Worker:
        package_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        errors = tempfile.TemporaryFile()
        proc = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT, package_parent],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
            env=_ZYGOTE_ENV, cwd="/", close_fds=True)
        worker = _Worker(index, proc, errors)
        config = {"policy": self.policy.to_dict(), "worker": index, "scratch_root": self._scratch_root,
                  "prelude": self.prelude, "answer": self.answer, "parent_pid": os.getpid(),
                  "prelude_imports": _imports_of(self.prelude), **self._seccomp}
        data = json.dumps(config).encode()
        assert proc.stdin is not None
        proc.stdin.write(len(data).to_bytes(4, "big") + data)
        proc.stdin.flush()
        return worker

    def _compile_seccomp(self) -> dict[str, str]:
        if not self.policy.layers.seccomp:
            return {}
        try:
            from ekt_curate.sandbox.seccomp_filter import program_filter, supervisor_filter

            return {"seccomp_supervisor": supervisor_filter().hex(),
                    "seccomp_program": program_filter(self.policy.allow.threads).hex()}
        except Exception as exc:  # ImportError, OSError from ctypes, libseccomp errors
            raise LayerUnavailable(
                f"seccomp layer unavailable (libseccomp through pyseccomp): {exc}; "
                "install libseccomp2, or set layers.seccomp = false in a policy to run without it") from exc

    def _handshake(self, worker: _Worker) -> _Worker:
        assert worker.proc.stdout is not None
        line = worker.proc.stdout.readline()
        if not line:
            worker.proc.wait()
            raise SandboxError(f"sandbox zygote exited at start: {worker.stderr_text() or 'no message'}")
        message = json.loads(line)
        if "error" in message:
            worker.proc.wait()
            raise LayerUnavailable(f"sandbox cannot start: {message['error']}")
        worker.layers = message["layers"]
        return worker

    def _replace(self, dead: _Worker, results: dict[int, Result]) -> _Worker:
        """A zygote died (it should not): fail its jobs, start a fresh one in its place."""
        reason = dead.stderr_text().splitlines()[-1:] or [f"exit status {dead.proc.wait()}"]
        for job_id in dead.in_flight:
            results[job_id] = Result.failure(Status.SANDBOX_ERROR, f"sandbox zygote died: {reason[0]}")
        slot = self._workers.index(dead)
        del self._workers[slot]
        self._stop(dead)
        if self._scratch_root:
            shutil.rmtree(os.path.join(self._scratch_root, f"w{dead.index}-{dead.pid}"), ignore_errors=True)
        fresh = self._handshake(self._spawn(dead.index))
        self._workers.insert(slot, fresh)
        return fresh

    @staticmethod
    def _stop(worker: _Worker) -> None:
        try:
            if worker.proc.stdin:
                worker.proc.stdin.close()
        except OSError:
            pass
        try:
            worker.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            worker.proc.kill()
            worker.proc.wait()
        for stream in (worker.proc.stdout, worker.errors):
            if stream:
                stream.close()
