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
                if base <= int(uid_line.split()[1]) < base + 1000:
                    found.append(int(entry))
    return found
