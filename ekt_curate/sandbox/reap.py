"""What a job leaves behind, removed by the zygote once its child has exited: the child's
process group killed, and the processes reparented to the zygote (its subreaper) reaped.
Imports only what the zygote has anyway."""

from __future__ import annotations

import os
import signal
import time

ORPHAN_SECONDS = 2.0                # reaping a killed job's leftover processes


def reap_orphans() -> int:
    """Reap what the job's child left (a test job's program process, reparented here: the zygote
    is their subreaper, so no zombie counts against the sandbox uid's process limit); their CPU
    microseconds. The group kill reached them all: a program cannot leave its process group."""
    cpu_us, deadline = 0, time.monotonic() + ORPHAN_SECONDS
    while time.monotonic() < deadline:
        try:
            pid, _, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.0005)
            continue
        cpu_us += int((usage.ru_utime + usage.ru_stime) * 1_000_000)
    return cpu_us


def kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):  # the group exists only once the child called setsid
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
