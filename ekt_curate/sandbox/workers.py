"""The executor's handle on one zygote process: start it, hand it jobs, read what it reports.

A zygote is a ``python -I`` process with a scrubbed environment, started by exec (so it
inherits nothing of the caller's memory). Its config arrives on stdin; after that it
talks only over a SOCK_SEQPACKET socket (protocol.py). It has no parent-death signal:
that signal follows the thread that started it, and a Sandbox may be made in a thread
that exits (TRL and datatrove call us from worker threads); the socket's hang-up when
the caller's process ends is what stops it.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import IO, Any

from ekt_curate.sandbox import protocol
from ekt_curate.sandbox.errors import LayerUnavailable, SandboxError
from ekt_curate.sandbox.supervise import Job

_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from ekt_curate.sandbox.zygote import main; main()"
# The zygote gets this environment and nothing else of the caller's (no tokens, no paths).
_ZYGOTE_ENV = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
HANDSHAKE_SECONDS = 60.0   # preloading numpy/sympy on a busy machine takes seconds, not minutes
_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Worker:
    """One zygote: its process, its socket, the jobs it holds in order."""

    def __init__(self, index: int, proc: subprocess.Popen[bytes], sock: socket.socket, errors: IO[bytes]):
        self.index = index
        self.proc = proc
        self.sock = sock
        self.errors = errors
        self.jobs: dict[int, Job] = {}   # token -> job, in the order sent (the zygote serves in order)
        self.layers: dict[str, str] = {}
        self.dead = False
        self.last_end = 0.0              # when the zygote last reported a job ended
        self.canary_pending = False      # a fresh zygote gets no job before its canary passed
        self.canary_running = False

    @property
    def pid(self) -> int:
        return self.proc.pid

    @classmethod
    def spawn(cls, index: int, config: dict[str, Any]) -> "Worker":
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        their_fd = theirs.fileno()  # pass_fds keeps a descriptor's number in the zygote
        errors = tempfile.TemporaryFile()
        try:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-c", _BOOT, _PACKAGE_PARENT],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors,
                env=_ZYGOTE_ENV, cwd="/", close_fds=True, pass_fds=(their_fd,),
                # a session of its own: a terminal's Ctrl-C (or a signal to the caller's group)
                # stops the caller, which then closes its zygotes in order
                start_new_session=True)
        finally:
            theirs.close()
        data = json.dumps({**config, "worker": index, "socket_fd": their_fd}).encode()
        assert proc.stdin is not None
        try:
            proc.stdin.write(len(data).to_bytes(4, "big") + data)
            proc.stdin.close()
        except OSError:
            pass  # it died at once; the handshake reports why
        return cls(index, proc, ours, errors)

    def handshake(self) -> "Worker":
        """Wait for the zygote's ready (or error) message; raise if it cannot start."""
        self.sock.settimeout(HANDSHAKE_SECONDS)
        try:
            message = self.sock.recv(1 << 16)
        except (TimeoutError, OSError):
            message = b""
        if not message:
            self.kill()
            raise SandboxError(f"sandbox zygote exited at start: {self.stderr_text() or 'no message'}")
        reply = json.loads(message)
        if "error" in reply:
            self.kill()
            raise LayerUnavailable(f"sandbox cannot start: {reply['error']}")
        self.layers = reply["layers"]
        self.sock.setblocking(False)
        return self

    def send(self, job: Job, child_ends: list[int]) -> bool:
        """Hand the zygote a job's pipe ends; False when the zygote is gone."""
        try:
            self.sock.sendmsg([protocol.JOB.pack(b"J", job.id)], protocol.rights(child_ends))
        except OSError:  # BrokenPipeError, ConnectionResetError: recovered like a closed read
            return False
        finally:
            for fd in child_ends:
                os.close(fd)
        job.sent = time.monotonic()
        self.jobs[job.id] = job
        return True

    def receive(self) -> list[tuple[bytes, int, tuple[int, ...], list[int]]] | None:
        """Records available now, as (kind, token, values, fds); None when the zygote is gone."""
        records = []
        while True:
            try:
                data, ancillary, _, _ = self.sock.recvmsg(protocol.MAX_RECORD, socket.CMSG_SPACE(4 * 4))
            except BlockingIOError:
                return records
            except OSError:
                data, ancillary = b"", []
            fds = protocol.fds_from_ancillary(ancillary)
            if not data:
                for fd in fds:
                    os.close(fd)
                return None
            record = _unpack(data)
            if record is None:  # not a record our zygote writes: treat it as broken
                for fd in fds:
                    os.close(fd)
                return None
            records.append((*record, fds))

    def kill(self) -> None:
        """Stop the zygote now (it holds no job's data) and wait until its children are gone.

        They die with it (parent-death signal), but dying takes a moment; a caller that goes on
        at once must not find a killed program still running beside its next one. The zygote is
        stopped first so that the list of its children cannot grow while it is read."""
        self.dead = True
        try:
            self.proc.send_signal(signal.SIGSTOP)
            children = _pidfds_of_children(self.proc.pid)
            self.proc.send_signal(signal.SIGKILL)
        except ProcessLookupError:
            children = []
        self.proc.wait()
        _kill_and_wait(children, timeout=2.0)
        self.sock.close()
        self.errors.close()

    def stop(self) -> None:
        """Ask the zygote to finish (socket closed), then make sure it did."""
        self.dead = True
        self.sock.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.errors.close()

    def stderr_text(self) -> str:
        try:
            self.errors.seek(0)
            return self.errors.read()[-4096:].decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""


def _unpack(data: bytes) -> tuple[bytes, int, tuple[int, ...]] | None:
    kind = data[:1]
    layout = {b"S": protocol.STARTED, b"E": protocol.ENDED, b"F": protocol.FAILED}.get(kind)
    if layout is None or len(data) != layout.size:
        return None
    _, token, *values = layout.unpack(data)
    return kind, token, tuple(values)


def _pidfds_of_children(pid: int) -> list[int]:
    """A pidfd for each child of a (stopped) process; none where the kernel cannot list them."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as listing:
            pids = [int(child) for child in listing.read().split()]
    except (OSError, ValueError):
        return []
    fds = []
    for child in pids:
        try:
            fds.append(os.pidfd_open(child))
        except OSError:  # already gone
            pass
    return fds


def _kill_and_wait(pidfds: list[int], timeout: float) -> None:
    """SIGKILL each process and wait (bounded) until each has exited; close the pidfds."""
    deadline = time.monotonic() + timeout
    for fd in pidfds:
        try:
            signal.pidfd_send_signal(fd, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for fd in pidfds:
        try:
            select.select([fd], [], [], max(0.0, deadline - time.monotonic()))  # readable once it exited
        finally:
            os.close(fd)
