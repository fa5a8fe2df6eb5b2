"""Landlock through raw syscalls: reads only where the interpreter lives, writes only in scratch.

Landlock is an unprivileged LSM (Linux 5.13+). We handle every access right the
running kernel's ABI knows, so anything not granted below is denied:
- filesystem: read (files and directory listings) beneath the interpreter's
  library directories; everything beneath the child's scratch directory;
- network (ABI 4+): TCP bind/connect, with no rule, so always denied;
- scopes (ABI 6+): signals and abstract unix sockets outside the child's own
  domain, so a child cannot signal its zygote, its siblings or the host.
See LandlockLayers for how the zygote's domain and each child's nest.
"""

from __future__ import annotations

import ctypes
import os

from ekt_curate.sandbox.linux import raw_syscall, syscall

SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446  # same numbers on every arch
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1

FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_REMOVE_DIR, FS_REMOVE_FILE, FS_MAKE_CHAR, FS_MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
FS_MAKE_REG, FS_MAKE_SOCK, FS_MAKE_FIFO, FS_MAKE_BLOCK = 1 << 8, 1 << 9, 1 << 10, 1 << 11
FS_MAKE_SYM, FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 1 << 12, 1 << 13, 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1

_FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
READ_RIGHTS = FS_READ_FILE | FS_READ_DIR
SCRATCH_RIGHTS = (FS_WRITE_FILE | FS_READ_FILE | FS_READ_DIR | FS_REMOVE_DIR | FS_REMOVE_FILE
                  | FS_MAKE_DIR | FS_MAKE_REG | FS_MAKE_SYM | FS_REFER | FS_TRUNCATE)


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def abi_version() -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is absent or disabled."""
    result, _ = raw_syscall(SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    return max(result, 0)


def handled_fs(abi: int) -> int:
    rights = (1 << 13) - 1  # ABI 1: bits 0..12
    if abi >= 2:
        rights |= FS_REFER
    if abi >= 3:
        rights |= FS_TRUNCATE
    if abi >= 5:
        rights |= FS_IOCTL_DEV
    return rights


def _create_ruleset(attr: _RulesetAttr, size: int) -> int:
    return syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0),
                   what="landlock_create_ruleset")


def _restrict(attr: _RulesetAttr, size: int, rules: list[tuple[int, int]]) -> None:
    ruleset = _create_ruleset(attr, size)
    try:
        for fd, rights in rules:
            rule = _PathBeneathAttr(rights, fd)
            syscall(SYS_ADD_RULE, ruleset, RULE_PATH_BENEATH, ctypes.byref(rule), ctypes.c_uint32(0),
                    what="landlock_add_rule")
        syscall(SYS_RESTRICT_SELF, ruleset, ctypes.c_uint32(0), what="landlock_restrict_self")
    finally:
        os.close(ruleset)


class LandlockLayers:
    """Two nested Landlock domains.

    The zygote's domain handles every right: it may read the interpreter's roots and
    read/write beneath its own scratch area, nothing else. Each child then adds a
    thin domain that handles only the write-type rights plus the scopes, with one
    rule: its own scratch directory. Reads stay governed by the zygote's domain, so
    a child pays three syscalls instead of a rule per root; signals and abstract
    sockets are scoped to the child's own domain, so it cannot reach its zygote.
    """

    def __init__(self) -> None:
        self.abi = abi_version()
        if self.abi < 1:
            raise OSError("Landlock is not available (kernel without CONFIG_SECURITY_LANDLOCK, or disabled at boot)")
        fs = handled_fs(self.abi)
        self.net = (NET_BIND_TCP | NET_CONNECT_TCP) if self.abi >= 4 else 0
        self.scoped = (SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL) if self.abi >= 6 else 0
        self.size = 8 if self.abi < 4 else (16 if self.abi < 6 else 24)
        self.fs = fs
        self.scratch_rights = SCRATCH_RIGHTS & fs
        # Reads stay governed by the zygote's domain: handling them here too would cost every
        # child a rule per root (~0.7 ms measured). The zygote's scratch area around the
        # child's dir is mode 0311, so it cannot be listed (the canary checks).
        write_rights = fs & ~(FS_READ_FILE | FS_READ_DIR | FS_EXECUTE)
        self.child_attr = _RulesetAttr(write_rights, self.net, self.scoped)
        self.read_roots: list[str] = []

    def restrict_zygote(self, read_paths: list[str], scratch_area: str) -> None:
        rules, fds = [], []
        try:
            for path in read_paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue  # a path that does not exist grants nothing
                fds.append(fd)
                rules.append((fd, (READ_RIGHTS if os.path.isdir(path) else FS_READ_FILE) & self.fs))
                self.read_roots.append(path)
            fd = os.open(scratch_area, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            fds.append(fd)
            rules.append((fd, self.scratch_rights))
            _restrict(_RulesetAttr(self.fs, self.net, self.scoped), self.size, rules)
        finally:
            for fd in fds:
                os.close(fd)

    def restrict_child(self, scratch_fd: int) -> None:
        """In the child: writes only beneath its scratch dir; signals/sockets scoped."""
        _restrict(self.child_attr, self.size, [(scratch_fd, self.scratch_rights & self.child_attr.handled_access_fs)])

    def describe(self) -> str:
        parts = [f"ABI {self.abi}", f"reads beneath {len(self.read_roots)} interpreter roots",
                 "writes only in the program's scratch dir"]
        if self.net:
            parts.append("no TCP")
        if self.scoped:
            parts.append("signals and abstract sockets scoped to the program")
        return ", ".join(parts)
