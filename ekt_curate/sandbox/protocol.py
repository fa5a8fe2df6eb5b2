"""Messages between the executor and a zygote: fixed-size records on a SOCK_SEQPACKET pair.

The zygote never sees a program, its output or its answer. For each job the executor
makes the child's four pipes itself and hands the zygote only their child-side ends:

    executor -> zygote   JOB      token                        + 4 fds: program in, stdout, stderr, result
    zygote -> executor   STARTED  token, pid                   + 1 fd: a pidfd of the child
    zygote -> executor   ENDED    token, wait status, cpu us, wall us   (scratch is gone by then)
    zygote -> executor   FAILED   token, errno                 (the zygote could not fork or make scratch)

Records are fixed-size structs, so what either side reads is bounded before it is parsed.
Imports only modules the zygote has anyway (struct, array, json, os): it maps every module it
imports, and each mapping makes every fork dearer.
"""

from __future__ import annotations

import array
import json
import os
import struct
from typing import Any

JOB = struct.Struct("=cQ")            # b"J", token
STARTED = struct.Struct("=cQi")       # b"S", token, pid
ENDED = struct.Struct("=cQiQQ")       # b"E", token, wait status, CPU and wall microseconds (fork to exit)
FAILED = struct.Struct("=cQi")        # b"F", token, errno
CHILD_FDS = 4                         # program in, stdout, stderr, result
MAX_RECORD = max(JOB.size, STARTED.size, ENDED.size, FAILED.size)
SOL_SOCKET, SCM_RIGHTS = 1, 1         # Linux values; the zygote avoids importing socket.py


def fds_from_ancillary(ancillary: list[tuple[int, int, bytes]]) -> list[int]:
    """Descriptors passed with a record (SCM_RIGHTS); anything else attached is ignored."""
    fds = array.array("i")
    for level, kind, data in ancillary:
        if level == SOL_SOCKET and kind == SCM_RIGHTS:
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
    return list(fds)


def rights(fds: list[int]) -> list[tuple[int, int, bytes]]:
    return [(SOL_SOCKET, SCM_RIGHTS, array.array("i", fds).tobytes())]


def read_exact(fd: int, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def read_part(fd: int, limit: int) -> bytes | None:
    """One part of a job pipe: a 4-byte big-endian length, then that many bytes; None if the pipe
    ends first or the length is over ``limit`` (the job pipe is the executor's, but bounded all
    the same)."""
    try:
        size = int.from_bytes(read_exact(fd, 4), "big")
        return None if size > limit else read_exact(fd, size)
    except EOFError:
        return None


def read_config(fd: int) -> dict[str, Any]:
    """The zygote's config: 4-byte big-endian length, then JSON, on its stdin (before the socket)."""
    size = int.from_bytes(read_exact(fd, 4), "big")
    return json.loads(read_exact(fd, size))
