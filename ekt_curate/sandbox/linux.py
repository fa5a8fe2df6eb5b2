"""The few libc calls the sandbox needs that the os module does not offer."""

from __future__ import annotations

import ctypes
import os

_libc = ctypes.CDLL(None, use_errno=True)
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_libc.prctl.restype = ctypes.c_int
_libc.syscall.restype = ctypes.c_long
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_SECCOMP = 22
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
SECCOMP_MODE_FILTER = 2


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def prctl(option: int, arg2: int = 0, arg3: int = 0, what: str = "prctl") -> int:
    return _check(_libc.prctl(option, arg2, arg3, 0, 0), what)


def syscall(number: int, *args: object, what: str) -> int:
    return _check(_libc.syscall(number, *args), what)


def raw_syscall(number: int, *args: object) -> tuple[int, int]:
    """(result, errno) without raising, for probing whether a feature exists."""
    result = _libc.syscall(number, *args)
    return result, (ctypes.get_errno() if result < 0 else 0)


CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC, MS_PRIVATE = 1 << 10, 1 << 11, 1 << 12, 1 << 14, 1 << 18
_in_private_namespace = False


def enter_private_mount_namespace() -> None:
    """A mount namespace of this process's own (its children share it): mounts made here are
    invisible to the host and vanish with the process. Needs CAP_SYS_ADMIN."""
    global _in_private_namespace
    if _in_private_namespace:
        return
    _check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _check(_libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    _in_private_namespace = True


def mount_tmpfs(path: str, options: str) -> None:
    _check(_libc.mount(b"tmpfs", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, options.encode()),
           f"mount tmpfs on {path}")


def bind_mount(source: str, target: str) -> None:
    _check(_libc.mount(source.encode(), target.encode(), None, MS_BIND, None), f"bind {source} on {target}")



def bind_read_only(path: str) -> None:
    """Bind ``path`` onto itself, then make that mount read-only and noatime: reads through it
    change nothing on the file, not even its access time (in this mount namespace only)."""
    bind_mount(path, path)
    flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOATIME | MS_NODIRATIME | MS_NOSUID | MS_NODEV
    _check(_libc.mount(None, path.encode(), None, flags, None), f"remount {path} read-only, noatime")
