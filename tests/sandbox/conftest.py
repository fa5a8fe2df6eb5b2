"""Shared sandbox fixtures: one warm sandbox per session, with short limits so that
timeouts cost the suite seconds, not minutes."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator

import pytest

from ekt_curate.sandbox import Policy, Sandbox, load_policy


def fast_policy(name: str = "default", **limits: object) -> Policy:
    base = load_policy(name)
    values = {"wall_seconds": 2.0, "cpu_seconds": 1, **limits}
    return dataclasses.replace(base, limits=dataclasses.replace(base.limits, **values))


@pytest.fixture(autouse=True)
def reap_orphaned_sandbox_children() -> Iterator[None]:
    """Inside `unshare --pid --fork`, pytest is PID 1: the children of a zygote a test killed
    are reparented to it and stay zombies, still counting toward their uid's RLIMIT_NPROC
    (the threads limit). Reap exactly those, and nothing a test still waits for."""
    _reap_sandbox_zombies()
    yield
    _reap_sandbox_zombies()


def _reap_sandbox_zombies() -> None:
    if os.getpid() != 1 or os.geteuid() != 0:
        return
    base = load_policy("default").layers.uid_base
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _state(int(entry)) == "Z":
            try:
                with open(f"/proc/{entry}/status") as status:
                    uid = int(next(line for line in status if line.startswith("Uid:")).split()[1])
                if base <= uid < base + (1 << 22):
                    os.waitpid(int(entry), os.WNOHANG)
            except (OSError, StopIteration, ChildProcessError):
                pass


@pytest.fixture(scope="session")
def box() -> Iterator[Sandbox]:
    with Sandbox(fast_policy(), workers=2) as sandbox:
        yield sandbox


def sandbox_processes(box: Sandbox) -> list[int]:
    """Processes left behind by programs: the zygotes' children, and anything running as
    a sandbox uid. Both must be empty between runs."""
    found = []
    for zygote in box.zygote_pids:
        with open(f"/proc/{zygote}/task/{zygote}/children") as children:
            found += [int(pid) for pid in children.read().split()]
    if os.geteuid() == 0:
        base = box.policy.layers.uid_base
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/status") as status:
                        uid_line = next(line for line in status if line.startswith("Uid:"))
                except (OSError, StopIteration):
                    continue
                if base <= int(uid_line.split()[1]) < base + (1 << 22):
                    found.append(int(entry))
    # A zombie runs nothing. Children of a zygote a test killed are reparented to PID 1, which
    # is pytest itself inside `unshare --pid --fork`, and it does not reap them.
    return [pid for pid in found if _state(pid) not in ("Z", None)]


def _state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None
