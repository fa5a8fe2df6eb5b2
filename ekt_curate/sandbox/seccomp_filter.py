"""Seccomp-BPF in two stacked filters: the zygote's allowlist, then each program's cut.

Filters stack and every syscall must pass all of them, so a child runs under
the intersection. The zygote loads ``supervisor_filter`` once: an allowlist of
what a single-threaded CPython needs to compute, allocate, read its libraries
and write in scratch (``PROGRAM_SYSCALLS``), plus the few calls the zygote needs
to fork and confine children (``SUPERVISOR_ONLY``). Each child, after confining
itself, loads ``program_filter``: it takes ``SUPERVISOR_ONLY`` away again, with
argument checks where a call is partly allowed:
- kill only with pid 0 (the caller's own process group);
- prlimit64 only to read (new_limit == NULL), so limits cannot be raised;
- clone only with CLONE_THREAD, and only if the policy allows threads;
- fcntl without its record-lock, lease, notify and signal-owner commands, preadv2/pwritev2 only
  without flags, madvise without MADV_COLD/MADV_PAGEOUT; flock, fadvise64 and mincore not at all.
  Those carried a number from one program to another through state the kernel keeps per file,
  not per process (issue 22): a record lock at an offset, read with one F_GETLK by a program
  running at the same time, even in another sandbox; pages of a library file evicted and read
  back, tested later with preadv2(RWF_NOWAIT).
The second filter is short, so loading it costs a child little: the kernel
JIT-compiles and caches every filter it is handed. Denied calls answer EPERM,
so a program sees an ordinary ``PermissionError``; calls through a foreign
ABI (32-bit int 0x80) kill the process (libseccomp's bad-arch action); clone3
answers ENOSYS so glibc falls back to clone, whose flags a filter can see.
There is no socket, execve, ptrace, mount, namespace, setuid, chmod or utime
call for a program. Which files may be opened is Landlock's job: seccomp cannot see paths.
Both programs are compiled by the executor (libseccomp maps ~80 regions that
would make every fork of the zygote dearer) and handed over as bytes.
"""

from __future__ import annotations

import ctypes
import errno
import os

from ekt_curate.sandbox.linux import PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prctl

CLONE_THREAD = 0x00010000
# fcntl commands that reach state shared by every process that opens the same file: POSIX and
# open-file-description record locks, leases, directory notifications, and the owner and signal
# of I/O events (F_SETOWN could aim SIGIO at another process).
F_GETLK, F_SETLK, F_SETLKW, F_SETOWN, F_SETSIG, F_SETOWN_EX = 5, 6, 7, 8, 10, 15
F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW = 36, 37, 38
F_SETLEASE, F_GETLEASE, F_NOTIFY = 1024, 1025, 1026
SHARED_STATE_FCNTL = (F_GETLK, F_SETLK, F_SETLKW, F_SETOWN, F_SETSIG, F_SETOWN_EX, F_OFD_GETLK, F_OFD_SETLK,
                      F_OFD_SETLKW, F_SETLEASE, F_GETLEASE, F_NOTIFY)
# madvise advice that reclaims a file's pages from the page cache (evicting them for everyone)
MADV_COLD, MADV_PAGEOUT = 20, 21

PROGRAM_SYSCALLS = (
    # memory
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "msync", "membarrier",
    # files and descriptors (paths are Landlock's business)
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2",
    "open", "openat", "close", "close_range", "lseek", "fstat", "stat", "lstat", "newfstatat", "statx",
    "fstatfs", "statfs", "access", "faccessat", "faccessat2", "readlink", "readlinkat", "getdents64",
    "getcwd", "chdir", "fchdir", "fcntl", "fsync", "fdatasync", "truncate", "ftruncate",
    "fallocate", "rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir", "unlink",
    "unlinkat", "link", "linkat", "symlink", "symlinkat", "umask", "dup", "dup2", "dup3", "pipe", "pipe2", "ioctl", "sendfile", "copy_file_range",
    # waiting and time
    "select", "pselect6", "poll", "ppoll", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
    "eventfd2", "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday", "time",
    "alarm", "setitimer", "getitimer", "timer_create", "timer_settime", "timer_gettime",
    "timer_getoverrun", "timer_delete", "sched_yield", "sched_getaffinity", "getcpu",
    # signals to itself (kill is cut to its own process group by program_filter)
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigsuspend",
    "rt_sigtimedwait", "sigaltstack",
    # identity and accounting (read-only)
    "getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid",
    "getgroups", "getpgrp", "getpgid", "getsid", "uname", "getrlimit", "getrusage", "sysinfo", "times",
    "getrandom", "capget", "wait4", "waitid",
    # the process's own threads runtime (new threads need clone, see program_filter)
    "futex", "set_robust_list", "get_robust_list", "set_tid_address", "rseq", "arch_prctl",
    "exit", "exit_group",
)

# What the zygote needs beyond a program: fork children, confine them, hand the executor
# a pidfd (sendmsg) and take jobs' pipe ends (recvmsg), reap them, clean up after them.
# File metadata calls are here too: Landlock has no right for chmod or utime, so a
# program could otherwise set a setuid bit or forge a time stamp on a file its uid owns.
SUPERVISOR_ONLY = (
    "clone", "kill", "prlimit64", "setrlimit", "setsid", "prctl", "pidfd_open", "sendmsg", "recvmsg",
    "sched_setaffinity",  # a test job's two processes share one CPU (harness.py)
    "setgroups", "setresuid", "setresgid", "chown", "fchown", "fchownat", "lchown",
    "chmod", "fchmod", "fchmodat", "fchmodat2", "utime", "utimes", "utimensat", "futimesat",
    "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
)


def _export(flt: object) -> bytes:
    read_fd, write_fd = os.pipe()
    try:
        with os.fdopen(write_fd, "wb", closefd=True) as sink:
            flt.export_bpf(sink)  # type: ignore[attr-defined]
        program = b""
        while chunk := os.read(read_fd, 65536):
            program += chunk
    finally:
        os.close(read_fd)
    if not program or len(program) % 8:
        raise OSError("libseccomp exported an empty or malformed BPF program")
    return program


def _add(flt: object, action: object, name: str, *args: object) -> None:
    try:
        flt.add_rule(action, name, *args)  # type: ignore[attr-defined]
    except (ValueError, RuntimeError, OSError):
        pass  # not a syscall on this architecture (e.g. `open` on arm64)


def supervisor_filter() -> bytes:
    import pyseccomp as sc  # here, so a missing libseccomp is reported as the layer failing

    flt = sc.SyscallFilter(defaction=sc.ERRNO(errno.EPERM))
    for name in (*PROGRAM_SYSCALLS, *SUPERVISOR_ONLY):
        _add(flt, sc.ALLOW, name)
    _add(flt, sc.ERRNO(errno.ENOSYS), "clone3")
    return _export(flt)


def program_filter(allow_threads: bool) -> bytes:
    import pyseccomp as sc

    flt = sc.SyscallFilter(defaction=sc.ALLOW)  # stacked on supervisor_filter's allowlist
    deny = sc.ERRNO(errno.EPERM)
    for name in SUPERVISOR_ONLY:
        if name not in ("kill", "prlimit64", "clone"):
            _add(flt, deny, name)
    _add(flt, deny, "kill", sc.Arg(0, sc.NE, 0))
    _add(flt, deny, "prlimit64", sc.Arg(2, sc.NE, 0))
    for command in SHARED_STATE_FCNTL:
        _add(flt, deny, "fcntl", sc.Arg(1, sc.EQ, command))
    for name in ("preadv2", "pwritev2"):  # RWF_NOWAIT tells whether a page is cached
        _add(flt, deny, name, sc.Arg(5, sc.NE, 0))
    for advice in (MADV_COLD, MADV_PAGEOUT):
        _add(flt, deny, "madvise", sc.Arg(2, sc.EQ, advice))
    if allow_threads:
        _add(flt, deny, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))
    else:
        _add(flt, deny, "clone")
    return _export(flt)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class LoadableFilter:
    """A BPF program kept in memory and installed with one prctl."""

    def __init__(self, program: bytes):
        self._buffer = ctypes.create_string_buffer(program, len(program))
        self._fprog = _SockFprog(len(program) // 8, ctypes.cast(self._buffer, ctypes.c_void_p))
        self.instructions = len(program) // 8

    def load(self) -> None:
        prctl(PR_SET_NO_NEW_PRIVS, 1, what="prctl(PR_SET_NO_NEW_PRIVS)")
        self.load_stacked()

    def load_stacked(self) -> None:
        """Install on top of an inherited filter (no_new_privs is inherited with it)."""
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(self._fprog), what="prctl(PR_SET_SECCOMP)")


def describe(supervisor: LoadableFilter, program: LoadableFilter, allow_threads: bool) -> str:
    threads = "threads allowed" if allow_threads else "no threads"
    return (f"{len(PROGRAM_SYSCALLS)} syscalls allowed to programs, default EPERM, {threads}; "
            f"zygote filter {supervisor.instructions} + program filter {program.instructions} BPF instructions")
