"""The scratch root of one Sandbox, and the sweep of roots whose Sandbox is gone.

Each Sandbox makes one ``ekt-sandbox-*`` directory (on /dev/shm when there is one) with a
folder per zygote inside. A run killed with SIGKILL cannot remove it, so every start sweeps
the roots nobody owns any more. Ownership is an flock on ``.owner`` held for the Sandbox's
life: a lock dies with its process, in any PID namespace, so a live Sandbox's root (even one
in another container sharing /dev/shm) is never taken for an abandoned one. The lock file is
locked before it gets its name, so no sweep can find it unlocked.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile

PREFIX = "ekt-sandbox-"
OWNER = ".owner"


def shared_memory_dir() -> str | None:
    """tmpfs when there is one: creating and removing a directory per program costs ~10 us
    there and ~95 us on a disk file system."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def make_root() -> tuple[str, int]:
    """A new scratch root and the descriptor that holds its ownership lock (close to release)."""
    parent = shared_memory_dir()
    sweep_abandoned(parent or tempfile.gettempdir())
    root = tempfile.mkdtemp(prefix=PREFIX, dir=parent)
    os.chmod(root, 0o711)  # the sandbox uid must reach its own job directory, and list nothing
    pending = os.path.join(root, OWNER + ".new")
    lock = os.open(pending, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    os.rename(pending, os.path.join(root, OWNER))
    return root, lock


def sweep_abandoned(parent: str) -> list[str]:
    """Remove the scratch roots under ``parent`` whose owner lock nobody holds; return them."""
    removed = []
    try:
        names = [name for name in os.listdir(parent) if name.startswith(PREFIX)]
    except OSError:
        return removed
    for name in names:
        root = os.path.join(parent, name)
        try:
            lock = os.open(os.path.join(root, OWNER), os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue  # no owner file: being made right now, or not ours to judge
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(lock)
            continue  # its Sandbox is alive
        try:
            shutil.rmtree(root, ignore_errors=True)
            removed.append(root)
        finally:
            os.close(lock)
    return removed


def remove_root(root: str, lock: int) -> None:
    shutil.rmtree(root, ignore_errors=True)
    os.close(lock)


UID_SLOTS = 1 << 16
_UID_FOLDER = "ekt-sandbox-uids"


def claim_uid_slot() -> tuple[int, int]:
    """A uid offset no other live Sandbox on this host uses, and the lock fd that holds it.
    RLIMIT_NPROC (the threads limit) is counted per uid across the host, so two sandboxes
    must not share one; zygote pids do not tell them apart across PID namespaces (each
    `unshare --pid` run numbers its zygotes alike). An flock per slot does: it is held while
    the Sandbox lives and dies with its process. Slots are probed from 0, so the folder holds
    as many files as sandboxes ever ran at once."""
    folder = os.path.join(shared_memory_dir() or tempfile.gettempdir(), _UID_FOLDER)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    for slot in range(UID_SLOTS):
        fd = os.open(os.path.join(folder, str(slot)), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return slot, fd
        except OSError:
            os.close(fd)
    raise OSError(f"all {UID_SLOTS} sandbox uid slots are in use")
