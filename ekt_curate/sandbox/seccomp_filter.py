"""The seccomp-BPF syscall allowlist, compiled once in the zygote and loaded in each child.

Default action is EPERM, so a denied call surfaces in the program as an
ordinary ``PermissionError`` rather than a crash. Calls from a foreign
architecture (the 32-bit int 0x80 ABI) kill the process (libseccomp's default
bad-arch action). Only the calls a single-threaded CPython needs to compute,
allocate, read its libraries and write in scratch are allowed; in particular
there is no socket, no execve, no fork/vfork/process clone, no ptrace, no
setuid, no mount/namespace call. Arguments are checked where it matters:
- kill only with pid 0 (the caller's own process group);
- prlimit64 only to read (new_limit == NULL), so limits cannot be raised;
- clone only with CLONE_THREAD, and only if the policy allows threads;
- clone3 answers ENOSYS so glibc falls back to clone, where flags are visible.
Which files may be opened is Landlock's job (seccomp cannot see paths).
"""

from __future__ import annotations

import ctypes
import errno
import os

from ekt_curate.sandbox.linux import PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prctl

CLONE_THREAD = 0x00010000

ALLOWED = (
    # memory
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync", "membarrier",
    # files and descriptors (paths are Landlock's business)
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2",
    "open", "openat", "close", "close_range", "lseek", "fstat", "stat", "lstat", "newfstatat", "statx",
    "fstatfs", "statfs", "access", "faccessat", "faccessat2", "readlink", "readlinkat", "getdents64",
    "getcwd", "chdir", "fchdir", "fcntl", "flock", "fsync", "fdatasync", "truncate", "ftruncate",
    "fallocate", "fadvise64", "rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir", "unlink",
    "unlinkat", "link", "linkat", "symlink", "symlinkat", "chmod", "fchmod", "fchmodat", "umask",
    "utimensat", "dup", "dup2", "dup3", "pipe", "pipe2", "ioctl", "sendfile", "copy_file_range",
    # waiting and time
    "select", "pselect6", "poll", "ppoll", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
    "eventfd2", "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday", "time",
    "alarm", "setitimer", "getitimer", "timer_create", "timer_settime", "timer_gettime",
    "timer_getoverrun", "timer_delete", "sched_yield", "sched_getaffinity", "getcpu",
    # signals (to itself: kill is allowed below only for its own process group)
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigsuspend",
    "rt_sigtimedwait", "sigaltstack",
    # identity and accounting (read-only)
    "getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid",
    "getgroups", "getpgrp", "getpgid", "getsid", "uname", "getrlimit", "getrusage", "sysinfo", "times",
    "getrandom", "capget", "wait4", "waitid",
    # threads runtime (the process's own; new threads need the policy's clone rule)
    "futex", "set_robust_list", "get_robust_list", "set_tid_address", "rseq", "arch_prctl",
    "exit", "exit_group",
)


def build_filter(allow_threads: bool) -> bytes:
    """Compile the allowlist to a BPF program (bytes of struct sock_filter)."""
    import pyseccomp as sc  # imported here so a missing libseccomp is reported as the layer failing

    flt = sc.SyscallFilter(defaction=sc.ERRNO(errno.EPERM))
    for name in ALLOWED:
        try:
            flt.add_rule(sc.ALLOW, name)
        except (ValueError, RuntimeError, OSError):
            continue  # not a syscall on this architecture (e.g. `open` on arm64)
    flt.add_rule(sc.ALLOW, "kill", sc.Arg(0, sc.MASKED_EQ, 0xFFFFFFFF, 0))
    flt.add_rule(sc.ALLOW, "prlimit64", sc.Arg(2, sc.EQ, 0))
    if allow_threads:
        flt.add_rule(sc.ALLOW, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, CLONE_THREAD))
    flt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    read_fd, write_fd = os.pipe()
    try:
        with os.fdopen(write_fd, "wb", closefd=True) as sink:
            flt.export_bpf(sink)
        program = b""
        while chunk := os.read(read_fd, 65536):
            program += chunk
    finally:
        os.close(read_fd)
    if not program or len(program) % 8:
        raise OSError("libseccomp exported an empty or malformed BPF program")
    return program


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class CompiledFilter:
    """A BPF program kept in the zygote's memory, loaded by each child with one prctl."""

    def __init__(self, program: bytes, allow_threads: bool):
        self.allow_threads = allow_threads
        self._buffer = ctypes.create_string_buffer(program, len(program))
        self._fprog = _SockFprog(len(program) // 8, ctypes.cast(self._buffer, ctypes.c_void_p))
        self.instructions = len(program) // 8

    def describe(self) -> str:
        threads = "threads allowed" if self.allow_threads else "no threads"
        return f"{len(ALLOWED)} allowed syscalls, {self.instructions} BPF instructions, {threads}, default EPERM"

    def load(self) -> None:
        """In the child: no_new_privs, then install the filter. Raises on failure."""
        prctl(PR_SET_NO_NEW_PRIVS, 1, what="prctl(PR_SET_NO_NEW_PRIVS)")
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(self._fprog), what="prctl(PR_SET_SECCOMP)")
