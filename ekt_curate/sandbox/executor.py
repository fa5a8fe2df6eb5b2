"""``Sandbox``: the public executor API, used by the CLI and as a library.

    with Sandbox("default", workers=2) as box:
        box.run("answer = 6 * 7").answer          # 42
        for result in box.map(programs):          # input order, all workers busy
            ...

Each worker is one zygote process (zygote.py) that only forks and reaps. This process
supervises every child directly: it writes the program to the child's own pipe (without
blocking, however long), reads its output and report, enforces the wall clock and the
output cap, and holds deadlines on the zygotes too: a zygote that dies, hangs up or
stops answering is replaced and its unfinished jobs run again (``sandbox_error`` only
if a job loses its zygote twice). ``map`` streams: it reads its input lazily and keeps
at most ``depth`` jobs per worker, so memory stays constant on any input size.
A Sandbox may be made and used from any thread, one ``map`` at a time.
"""

from __future__ import annotations

import collections
import os
import select
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from ekt_curate.sandbox import scratch
from ekt_curate.sandbox.canary import CANARY, check_canary
from ekt_curate.sandbox.errors import SandboxError
from ekt_curate.sandbox.policy import Policy, load_policy
from ekt_curate.sandbox.program import Program
from ekt_curate.sandbox.program_text import extract_program
from ekt_curate.sandbox.result import Result, Status
from ekt_curate.sandbox.serving import IDLE, ServedMap
from ekt_curate.sandbox.startup import compile_seccomp, imports_of, raise_open_files_limit
from ekt_curate.sandbox.supervise import Job, classify
from ekt_curate.sandbox.workers import Worker

ANSWER_MODES = ("auto", "solution", "stdout")  # plus "var:NAME"
MAX_ATTEMPTS = 2           # a job whose zygote is lost is run again once, on a fresh zygote
CANARY_IDS = 1 << 62       # canary jobs are numbered from here, apart from programs
_READ = select.POLLIN | select.POLLHUP | select.POLLERR


def check_answer_mode(mode: str) -> str:
    if mode in ANSWER_MODES or (mode.startswith("var:") and mode[4:].isidentifier()):
        return mode
    raise SandboxError(f"unknown answer convention {mode!r}: use auto, solution, stdout or var:NAME")


def default_workers() -> int:
    return len(os.sched_getaffinity(0))


class Sandbox(ServedMap):
    """Run untrusted programs under a policy; see the module docstring."""

    start_grace = 10.0   # seconds a zygote may take to fork a job it was handed (it takes ~1 ms)
    end_grace = 20.0     # ... to report a child that has exited (scratch removal included)

    def __init__(self, policy: Policy | str = "default", *, workers: int | None = None,
                 prelude: str | None = None, answer: str = "auto", depth: int = 2):
        self.policy = load_policy(policy)
        self.workers = workers or default_workers()
        if self.workers < 1:
            raise SandboxError("workers must be at least 1")
        self.prelude = prelude
        self.answer = check_answer_mode(answer)
        self.depth = depth
        self._workers: list[Worker] = []
        self._scratch_root: str | None = None
        self._scratch_lock = -1
        self._canaries = 0
        self._uid_slots: list[tuple[int, int]] = []  # per worker: (uid offset, lock fd), as root
        self._config: dict[str, Any] = {}
        self._next_id = 0
        self._poller = select.poll()
        self._owners: dict[int, tuple[str, Worker, Job | None]] = {}  # fd -> (role, worker, job)
        self._retry: collections.deque[Job] = collections.deque()
        self._finished: dict[int, Result] = {}
        self._busy = threading.Lock()
        self._busy_thread: int | None = None
        self._wake_fds: tuple[int, int] | None = None  # map_unordered's caller wakes the event loop
        self._cancels: collections.deque[int] = collections.deque()  # job ids to kill, from any thread
        self._base = 0                                 # the first job id of the running map
        self.replacements = 0   # zygotes replaced since start (lost, wedged or unhealthy)

    # -- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> "Sandbox":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        if self._workers:
            return
        raise_open_files_limit(self.workers * self.depth * 8 + 256)
        self._scratch_root, self._scratch_lock = scratch.make_root()
        self._config = {"policy": self.policy.to_dict(), "scratch_root": self._scratch_root,
                        "prelude": self.prelude, "prelude_imports": imports_of(self.prelude),
                        **compile_seccomp(self.policy)}
        pending: list[Worker] = []
        try:
            if os.geteuid() == 0 and self.policy.layers.drop_privileges:
                self._uid_slots = [scratch.claim_uid_slot() for _ in range(self.workers)]
            for index in range(self.workers):  # start them all, then wait: they boot in parallel
                pending.append(self._spawn(index))
            for worker in pending:
                worker.handshake()
            for worker in pending:
                self._add_worker(worker)
            wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
            self._wake_fds = (wake_r, wake_w)
            self._poller.register(wake_r, _READ)
            self._self_test()
        except BaseException:
            for worker in pending:  # whichever started, handshaken or not
                if not worker.dead:
                    worker.kill()
            self._workers = []
            self.close()
            raise

    def close(self) -> None:
        for worker in self._workers:
            self._forget_worker(worker)
            worker.stop()
        self._workers = []
        if self._wake_fds is not None:
            self._poller.unregister(self._wake_fds[0])
            for fd in self._wake_fds:
                os.close(fd)
            self._wake_fds = None
        if self._scratch_root:
            scratch.remove_root(self._scratch_root, self._scratch_lock)
            self._scratch_root = None
        for _, lock in self._uid_slots:
            os.close(lock)
        self._uid_slots = []

    @property
    def layers(self) -> dict[str, str]:
        """What each isolation layer is doing, as the zygotes reported it at start."""
        return dict(self._workers[0].layers) if self._workers else {}

    @property
    def zygote_pids(self) -> list[int]:
        return [worker.pid for worker in self._workers]

    # -- running programs ---------------------------------------------------------------------
    def run(self, code: str | Program, prelude: str | None = None, answer: str | None = None) -> Result:
        return next(self.map([code], prelude=prelude, answer=answer))

    def map(self, codes: Iterable[str | Program], prelude: str | None = None,
            answer: str | None = None) -> Iterator[Result]:
        """Yield one Result per program, in input order, keeping every worker busy. A program is
        its code (its answer judged by ``answer``), or a ``Program`` with stdin, calls or tests."""
        answer = check_answer_mode(answer) if answer else self.answer
        self._acquire()
        try:
            if not self._workers:
                self.start()
            yield from self._map(iter(codes), prelude, answer)
        finally:
            try:
                self._abandon()
            finally:
                self._release()

    def _map(self, source: Iterator[str | Program], prelude: str | None, answer: str,
             ordered: bool = True) -> Iterator[Any]:
        next_out = self._next_id
        exhausted = False
        while True:
            exhausted = self._feed(source, prelude, answer) or exhausted
            if ordered:
                while next_out in self._finished:
                    yield self._finished.pop(next_out)
                    next_out += 1
            else:
                while self._finished:
                    job_id, result = self._finished.popitem()
                    yield job_id - self._base, result
                if exhausted and not self._retry and not any(worker.jobs for worker in self._workers):
                    return  # (cancelled programs have no result to wait for)
            if exhausted and next_out == self._next_id:
                return
            self._pump()

    def _feed(self, source: Iterator[str | Program], prelude: str | None, answer: str) -> bool:
        """Hand jobs to every worker with room (re-runs first); True once the input is exhausted."""
        exhausted = False
        for worker in sorted(self._workers, key=lambda w: len(w.jobs)):
            if worker.canary_pending or worker.canary_running:
                if worker.canary_pending:  # nothing else runs on a zygote until its canary passed
                    self._submit_canary(worker)
                continue
            while len(worker.jobs) < self.depth:
                if self._retry:
                    job = self._retry.popleft()
                elif exhausted:
                    break
                else:
                    try:
                        code = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    if code is IDLE:  # nothing to run now: ask again after the next event
                        return False
                    job = self._new_job(code, prelude, answer)
                    if job is None:
                        continue
                self._submit(worker, job)
                if worker.dead:
                    break
        return exhausted

    def _new_job(self, code: str | Program, prelude: str | None, answer: str) -> Job | None:
        job_id = self._next_id
        self._next_id += 1
        spec = code if isinstance(code, Program) else Program(code)
        program = extract_program(spec.code)
        if len(program.encode("utf-8", "surrogatepass")) > self.policy.limits.program_bytes:
            self._finished[job_id] = Result.failure(
                Status.SYNTAX_ERROR, f"program larger than {self.policy.limits.program_bytes} bytes")
            return None
        payload = spec.payload(program, answer, prelude if prelude != self.prelude else None)
        limits = self.policy.limits
        return Job(job_id, payload, limits.output_bytes, keep_output=spec.keeps_output,
                   result_cap=limits.output_bytes if spec.harnessed or spec.fetch else None, harnessed=spec.harnessed,
                   plain=spec.run, wall=spec.wall_seconds)

    def _submit(self, worker: Worker, job: Job) -> None:
        try:
            child_ends = job.open_pipes()
        except OSError as exc:  # out of descriptors: this job fails, the sandbox goes on
            if job.canary:
                worker.canary_running, worker.canary_pending = False, True  # tried again at the next feed
            else:
                self._finished[job.id] = Result.failure(
                    Status.SANDBOX_ERROR, f"the job's pipes could not be made: {os.strerror(exc.errno or 0)}")
            return
        if not worker.send(job, child_ends):
            job.close()
            self._retry.appendleft(job.again(job.attempt))  # not this job's doing
            self._lose(worker, "was gone when handed a job")
            return
        for fd in job.readers:
            self._watch(fd, _READ, "output", worker, job)
        if not job.write_some():
            self._watch(job.writer, select.POLLOUT, "input", worker, job)  # type: ignore[arg-type]

    # -- the event loop ---------------------------------------------------------------------------
    def _pump(self) -> None:
        """Wait for something to happen (or a deadline), and handle it."""
        now = time.monotonic()
        timeout = self._check_deadlines(now)
        for fd, _ in self._poller.poll(None if timeout is None else max(timeout, 0.0) * 1000):
            if self._wake_fds is not None and fd == self._wake_fds[0]:
                self._woken()
                continue
            owner = self._owners.get(fd)
            if owner is None:
                continue  # closed while handling an earlier event of this batch
            role, worker, job = owner
            if role == "zygote":
                self._from_zygote(worker)
            elif role == "output":
                assert job is not None
                if job.read(fd):
                    self._unwatch(fd)
                    if not job.readers and job.started:
                        job.exited_at = job.exited_at or time.monotonic()
                self._maybe_done(worker, job)
            elif role == "input":
                assert job is not None
                self._unwatch(fd)
                if not job.write_some():
                    self._watch(job.writer, select.POLLOUT, "input", worker, job)  # type: ignore[arg-type]

    def _from_zygote(self, worker: Worker) -> None:
        records = worker.receive()
        if records is None:
            self._lose(worker, "died")
            return
        for kind, token, values, fds in records:
            job = worker.jobs.get(token)
            if job is None or (kind == b"S" and (len(fds) != 1 or job.pidfd is not None)):
                for fd in fds:
                    os.close(fd)
                continue
            now = time.monotonic()
            if kind == b"S":
                job.pid, job.pidfd = values[0], fds[0]
                job.started = now
                wall = self.policy.limits.wall_seconds
                job.deadline = now + (min(wall, job.wall) if job.wall else wall)
                if job.killed:  # over a limit (or abandoned) before it was reported started
                    job.kill()
            elif kind == b"E":
                job.end = (values[0], values[1] / 1000.0, values[2] / 1000.0)
                job.exited_at = job.exited_at or now
                worker.last_end = now
            elif kind == b"F":
                job.failed_errno = values[0]
                worker.last_end = now
            self._maybe_done(worker, job)

    def _maybe_done(self, worker: Worker, job: Job) -> None:
        if not job.done:
            return
        del worker.jobs[job.id]
        for fd in job.close():
            self._unwatch(fd)
        if job.canary:
            worker.canary_running = False
            check_canary(Result.from_message(classify(job, self.policy.limits)), self.policy.layers)
            return
        if job.abandoned:
            return
        message = classify(job, self.policy.limits)
        cpu_ms, wall_ms = job.end[1:] if job.end else (0.0, 0.0)
        message.update(cpu_ms=round(cpu_ms, 3), wall_ms=round(wall_ms, 3),
                       stdout_tail=job.tail(0), stderr_tail=job.tail(1))
        self._finished[job.id] = Result.from_message(message)

    def _check_deadlines(self, now: float) -> float | None:
        """Kill children past their wall clock; replace zygotes that stopped answering.
        Returns seconds until the next deadline (None: nothing to wait for but events)."""
        nearest: float | None = None
        for worker in list(self._workers):
            head = next(iter(worker.jobs.values()), None)  # the zygote serves jobs in order
            if head is None or head.end is not None or head.failed_errno is not None:
                continue  # idle, or ended and draining its pipes
            if not head.started:
                due = max(head.sent, worker.last_end) + self.start_grace
            else:
                if not head.killed_at and not head.exited_at and now >= head.deadline:
                    head.timed_out = True
                    head.kill()
                # once the child is gone (its pipes closed) or killed, the zygote has end_grace to
                # report it; a zygote stopped after its child exited is caught at the deadline
                gone = head.exited_at or head.killed_at
                due = gone + self.end_grace if gone else head.deadline
            if now >= due:
                self._lose(worker, "stopped answering")
                continue
            nearest = due - now if nearest is None else min(nearest, due - now)
        return 0.0 if self._retry else nearest  # re-runs wait for _feed: do not block before it

    def _lose(self, worker: Worker, how: str) -> None:
        """A zygote is gone or wedged: stop it, re-run its unfinished jobs, start a fresh one."""
        slot = self._workers.index(worker)
        self._forget_worker(worker)
        reason = worker.stderr_text().splitlines()[-1:] if how == "died" else []
        worker.kill()
        for job in worker.jobs.values():
            for fd in job.close():
                self._unwatch(fd)
            if job.abandoned or job.canary:  # the replacement runs a canary of its own
                continue
            if job.attempt < MAX_ATTEMPTS:
                self._retry.append(job.again(job.attempt + 1))
            else:
                detail = f"sandbox zygote {how} twice while this program ran" + (f": {reason[0]}" if reason else "")
                self._finished[job.id] = Result.failure(Status.SANDBOX_ERROR, detail[:300])
        worker.jobs.clear()
        del self._workers[slot]
        self.replacements += 1
        fresh = self._spawn(worker.index).handshake()
        fresh.canary_pending = True  # proved before it gets a job, as at start
        self._workers.insert(slot, fresh)
        self._watch(fresh.sock.fileno(), _READ, "zygote", fresh, None)

    def _abandon(self) -> None:
        """The caller stopped reading (or an error): kill what runs, withdraw what waits, and
        let every zygote finish, so the next map starts clean."""
        self._retry.clear()
        for worker in self._workers:
            for job in worker.jobs.values():
                if job.canary:
                    continue        # a fresh zygote's proof runs to its end
                job.abandoned = True
                job.close_writer()  # a child not yet started reads a cut job and exits
                job.kill()          # one started, now or when its start is reported
        while any(worker.jobs for worker in self._workers):
            self._pump()
        self._finished.clear()

    # -- bookkeeping ----------------------------------------------------------------------------
    def _spawn(self, index: int) -> Worker:
        config = dict(self._config)
        if self._uid_slots:
            config["uid_offset"] = self._uid_slots[index][0]
        return Worker.spawn(index, config)

    def _add_worker(self, worker: Worker) -> None:
        self._workers.append(worker)
        self._watch(worker.sock.fileno(), _READ, "zygote", worker, None)

    def _forget_worker(self, worker: Worker) -> None:
        if not worker.dead:
            self._unwatch(worker.sock.fileno())

    def _watch(self, fd: int, events: int, role: str, worker: Worker, job: Job | None) -> None:
        self._poller.register(fd, events)
        self._owners[fd] = (role, worker, job)

    def _unwatch(self, fd: int) -> None:
        if self._owners.pop(fd, None) is not None:
            self._poller.unregister(fd)

    def _acquire(self) -> None:
        if self._busy_thread == threading.get_ident():
            raise SandboxError("this Sandbox is already running a map in this thread: finish or close "
                               "that iterator first (one map at a time per Sandbox)")
        self._busy.acquire()
        self._busy_thread = threading.get_ident()

    def _release(self) -> None:
        self._busy_thread = None
        self._busy.release()

    def _submit_canary(self, worker: Worker) -> None:
        # ids of their own: map yields its jobs' ids in sequence, and must not wait for a canary's
        job = Job(CANARY_IDS + self._canaries, Program(CANARY).payload(CANARY, "var:answer", None),
                  self.policy.limits.output_bytes)
        job.canary = True
        self._canaries += 1
        worker.canary_pending, worker.canary_running = False, True
        self._submit(worker, job)

    def _self_test(self) -> None:
        """Prove every zygote before its first job (replacements too: see _feed)."""
        for worker in self._workers:
            self._submit_canary(worker)
        while any(worker.canary_running or worker.canary_pending for worker in self._workers):
            for worker in self._workers:
                if worker.canary_pending:
                    self._submit_canary(worker)
            self._pump()
