"""Paths and trees the zygote works on: which roots programs may read, which directories on the
way hide them from other users, mounting them read-only, and removing a job's scratch at any
depth. Plain functions of the standard library (os, stat): nothing here knows of jobs.
"""

from __future__ import annotations

import os
import stat

from ekt_curate.sandbox.linux import bind_read_only, enter_private_mount_namespace


def roots_without(roots: list[str], excluded: str) -> list[str]:
    """The same readable tree minus ``excluded``: a root that contains it is replaced by its
    entries, except the one on the way to ``excluded``, which is split the same way."""
    kept: list[str] = []
    for root in roots:
        if excluded == root:
            continue
        if not excluded.startswith(root.rstrip(os.sep) + os.sep):
            kept.append(root)
            continue
        try:
            entries = sorted(os.scandir(root), key=lambda entry: entry.name)
        except OSError:
            continue
        for entry in entries:
            path = os.path.realpath(entry.path)
            if path == excluded or excluded.startswith(path.rstrip(os.sep) + os.sep):
                kept += roots_without([path], excluded) if path != excluded else []
            elif not (path + os.sep).startswith(excluded + os.sep):  # a link into it grants nothing
                kept.append(path)
    return kept


def outermost(paths: list[str]) -> list[str]:
    """Drop duplicates and paths beneath another root (one Landlock rule each costs a syscall per child)."""
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in kept):
            kept.append(path)
    return kept


def hidden_by_permissions(roots: list[str]) -> list[str]:
    """Directories on the way to a read root that a uid other than the owner cannot traverse."""
    hidden = []
    for root in roots:
        path = os.path.dirname(root) if not os.path.isdir(root) else root
        while True:
            try:
                if not os.stat(path).st_mode & stat.S_IXOTH:
                    hidden.append(path)
            except OSError:
                pass
            if path == os.path.dirname(path):
                break
            path = os.path.dirname(path)
    return sorted(set(hidden))


def remove_tree(top: str) -> bool:
    """Remove ``top`` and everything beneath it, holding two descriptors at most: descend by
    openat(O_NOFOLLOW), climb by "..", unlink by name relative to the directory. Paths are
    never built, so PATH_MAX and depth do not matter. Runs once the program is dead, so
    nothing renames under it. True when ``top`` is gone."""
    parent = os.open(os.path.dirname(top), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    names = [os.path.basename(top)]          # the path from ``parent`` down to ``fd``
    fd = _open_dir(names[0], parent)
    os.close(parent)
    while True:
        child = _first_entry(fd)
        if child is not None:
            name, is_dir = child
            if is_dir:
                below = _open_dir(name, fd)
                os.close(fd)
                fd = below
                names.append(name)
            else:
                os.unlink(name, dir_fd=fd)
            continue
        up = os.open("..", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=fd)
        os.close(fd)
        os.rmdir(names.pop(), dir_fd=up)
        if not names:
            os.close(up)
            return True
        fd = up


def _open_dir(name: str, dir_fd: int) -> int:
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        return os.open(name, flags, dir_fd=dir_fd)
    except PermissionError:  # a program made it unreadable to itself (mode 000)
        os.chmod(name, 0o700, dir_fd=dir_fd, follow_symlinks=False)
        return os.open(name, flags, dir_fd=dir_fd)


def _first_entry(fd: int) -> tuple[str, bool] | None:
    with os.scandir(fd) as entries:
        for entry in entries:
            try:
                mode = os.stat(entry.name, dir_fd=fd, follow_symlinks=False).st_mode
            except FileNotFoundError:
                continue
            return entry.name, stat.S_ISDIR(mode)
    return None


def mount_read_only(roots: list[str], wanted: bool) -> str:
    """Bind each read root onto itself read-only and noatime, in the zygote's own mount namespace;
    returns the layer's description.

    Reading a file updates its access time on the host's filesystem (relatime: once a day, or
    whenever it is not newer than the file's mtime), and any later program can stat it: one bit
    per readable file, thousands of files, no timing needed (issue 22's shared-file class). With
    these mounts a program's reads leave nothing on any file. Needs root, like the mounts of
    scratch; done before Landlock, which forbids mounting."""
    if os.geteuid() != 0:
        return "not root: reads update access times on the shared filesystem"
    if not wanted:
        return "off (policy): reads update access times on the shared filesystem"
    try:
        enter_private_mount_namespace()
        for root in roots:
            bind_read_only(root)
    except OSError as exc:
        raise RuntimeError(f"readonly_roots layer unavailable: {exc}") from exc
    return f"{len(roots)} read-only noatime bind mounts in the zygote's mount namespace"
