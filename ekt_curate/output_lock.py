"""One run per output: an exclusive ``flock`` on ``<output>.lock`` for as long as a stage writes.

A second run on the same output would append every line a second time (both runs resume from
the same point), so it must refuse before it writes anything. ``flock`` belongs to the open file,
so the kernel drops it when the process dies however it dies (``kill -9``, OOM): a stale lock
file never blocks a later run, and no pid has to be checked.

The lock file is removed on release. That is safe only because a run that locks a file checks
afterwards that the path still names the file it locked (another run may have removed it between
our open and our flock); if not, it locks the new one.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from ekt_curate.errors import EktError, OutputError


def lock_path(output: Path) -> Path:
    return output.with_name(output.name + ".lock")


class OutputLock:
    """``with OutputLock(output):`` - refuses (EktError, one line) if another run holds it."""

    def __init__(self, output: Path, warn: Callable[[str], None] | None = None):
        self.output = output
        self.path = lock_path(output)
        self.warn = warn
        self._fd: int | None = None

    def acquire(self) -> None:
        if not self.path.parent.is_dir():  # a typo in -o, not a disk fault: exit 2, not 5
            raise EktError(f"{self.output}: the folder {self.path.parent} does not exist")
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as exc:
                raise OutputError(f"{self.path}: cannot create the lock file: {exc.strerror}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                holder = _read_holder(fd)
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise EktError(f"{self.output} is being written by another run{holder}; wait for it "
                                   f"to finish (or stop it) before running again") from None
                # Some cluster file systems (Lustre without -o flock) have no flock: go on unlocked.
                if self.warn:
                    self.warn(f"{self.path}: cannot lock ({exc.strerror}); two runs on this output "
                              f"would not be detected")
                return
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # removed by the run that held it just before us: lock the new file
        try:  # the pid is for the refusal message only: a full disk must not stop the run here
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError:
            pass
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.unlink(self.path)  # while still holding it: see the module docstring
        except OSError:
            pass
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> "OutputLock":
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""
