"""Channels between jobs through state the kernel keeps per file (issue 22): record locks, flock,
the page cache, access times. Each attack (shared_state_attacks.py) runs as writer then reader
on one worker, at the same time on two workers, and across two sandboxes; the reader never
recovers the writer's secret, and an honest program after each still passes."""

from __future__ import annotations

import dataclasses
import os
import random
import sysconfig
import tempfile
import threading
import time
from collections.abc import Iterator

import pytest

from ekt_curate.sandbox import Sandbox, Status
from tests.sandbox.conftest import fast_policy
from tests.sandbox.shared_state_attacks import CHANNELS

pytestmark = pytest.mark.hostile

HONEST = "def solution():\n    return 6 * 7\n"
OLD = time.time() - 400 * 86400


def _largest_library() -> str:
    """A large file beneath the interpreter's read roots (every child may read it)."""
    best, size = "", 0
    for root in (sysconfig.get_paths()["stdlib"], "/usr/lib"):
        for folder, _, files in os.walk(root):
            for name in files:
                path = os.path.join(folder, name)
                try:
                    length = os.stat(path, follow_symlinks=False).st_size
                except OSError:
                    continue
                if length > size and os.path.isfile(path) and not os.path.islink(path):
                    best, size = path, length
            if size > 64 << 20:
                return best
    assert size > 4 << 20, "no large library file to attack"
    return best


@pytest.fixture(scope="module")
def setting() -> Iterator[dict[str, object]]:
    folder = tempfile.mkdtemp(prefix="ekt-shared-", dir="/tmp")
    os.chmod(folder, 0o755)
    for index in range(16):
        path = os.path.join(folder, f"f{index}")
        with open(path, "w") as handle:
            handle.write("x" * 100)
        os.chmod(path, 0o644)
        os.utime(path, (OLD, OLD + 86400))  # atime older than mtime: relatime would update it on a read
    base = fast_policy(wall_seconds=5.0, cpu_seconds=2)
    policy = dataclasses.replace(base, allow=dataclasses.replace(base.allow, read_paths=(folder,)))
    yield {"dir": folder, "library": _largest_library(), "policy": policy}
    for index in range(16):
        os.unlink(os.path.join(folder, f"f{index}"))
    os.rmdir(folder)


def _programs(setting: dict[str, object], writer: str, reader: str) -> tuple[int, str, str]:
    secret = random.Random(f"{writer[:40]}{time.time()}").randrange(1, 1 << 16) | 1
    values = {"secret": secret, "dir": setting["dir"], "library": setting["library"]}
    return secret, writer.format(**values), reader.format(**values)


def _reset_atimes(setting: dict[str, object]) -> None:
    for index in range(16):
        os.utime(os.path.join(str(setting["dir"]), f"f{index}"), (OLD, OLD + 86400))


@pytest.mark.parametrize(("name", "writer", "reader"), CHANNELS, ids=[c[0] for c in CHANNELS])
def test_writer_then_reader_on_one_worker(setting, name, writer, reader):
    _reset_atimes(setting)
    secret, writer, reader = _programs(setting, writer, reader)
    with Sandbox(setting["policy"], workers=1) as box:
        written, read, honest = box.map([writer, reader, HONEST])
        assert box.replacements == 0
    assert read.answer != secret, f"{name}: a later program read the secret ({read})"
    assert honest.status is Status.OK and honest.answer == 42, honest


@pytest.mark.parametrize(("name", "writer", "reader"), CHANNELS, ids=[c[0] for c in CHANNELS])
def test_writer_and_reader_at_once_in_two_sandboxes(setting, name, writer, reader):
    _reset_atimes(setting)
    secret, writer, reader = _programs(setting, writer, reader)
    results: dict[str, object] = {}

    def run(role: str, program: str, delay: float) -> None:
        time.sleep(delay)
        with Sandbox(setting["policy"], workers=1) as box:
            results[role] = box.run(program)
            results[role + " then honest"] = box.run(HONEST)

    threads = [threading.Thread(target=run, args=("writer", writer, 0.0)),
               threading.Thread(target=run, args=("reader", reader, 0.3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results["reader"].answer != secret, f"{name}: a program in another sandbox read the secret"
    for role in ("writer then honest", "reader then honest"):
        assert results[role].status is Status.OK and results[role].answer == 42, results[role]


def test_writer_and_reader_at_once_on_two_workers(setting):
    programs, secrets = [], []
    for _, writer, reader in CHANNELS[:3]:  # the lock channels, which need the writer alive
        secret, writer, reader = _programs(setting, writer, reader)
        programs += [writer, reader]
        secrets.append(secret)
    with Sandbox(setting["policy"], workers=2, depth=1) as box:
        results = list(box.map(programs))
    for secret, read in zip(secrets, results[1::2]):
        assert read.answer != secret, read


@pytest.mark.parametrize(("call", "code"), [
    ("F_SETLK", "import fcntl, os, struct\nfcntl.fcntl(os.open({library!r}, os.O_RDONLY), fcntl.F_SETLK, "
                "struct.pack('hhqqi', fcntl.F_RDLCK, 0, 0, 1, 0))\n"),
    ("F_GETLK", "import fcntl, os\nfcntl.fcntl(os.open({library!r}, os.O_RDONLY), fcntl.F_GETLK, bytes(32))\n"),
    ("F_OFD_SETLK", "import fcntl, os\nfcntl.fcntl(os.open({library!r}, os.O_RDONLY), 37, bytes(32))\n"),
    ("flock", "import fcntl, os\nfcntl.flock(os.open({library!r}, os.O_RDONLY), fcntl.LOCK_SH)\n"),
    ("lockf", "import fcntl, os\nfcntl.lockf(os.open('f', os.O_RDWR | os.O_CREAT), fcntl.LOCK_EX)\n"),
    ("F_SETLEASE", "import fcntl, os\nfcntl.fcntl(os.open('f', os.O_RDWR | os.O_CREAT), fcntl.F_SETLEASE, fcntl.F_RDLCK)\n"),
    ("F_SETOWN", "import fcntl, os\nfcntl.fcntl(os.open('f', os.O_RDWR | os.O_CREAT), fcntl.F_SETOWN, 1)\n"),
    ("fadvise DONTNEED", "import os\nos.posix_fadvise(os.open({library!r}, os.O_RDONLY), 0, 4096, os.POSIX_FADV_DONTNEED)\n"),
    ("preadv2 RWF_NOWAIT", "import os\nos.preadv(os.open({library!r}, os.O_RDONLY), [bytearray(1)], 0, os.RWF_NOWAIT)\n"),
    ("madvise PAGEOUT", "import mmap, os\nmmap.mmap(os.open({library!r}, os.O_RDONLY), 4096, prot=mmap.PROT_READ).madvise(21)\n"),
    ("mincore", "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nbuf = ctypes.create_string_buffer(1)\n"
                "page = ctypes.create_string_buffer(8192)\naddress = (ctypes.addressof(page) + 4095) & ~4095\n"
                "if libc.mincore(ctypes.c_void_p(address), 4096, buf) != 0:\n    raise OSError(ctypes.get_errno(), 'mincore')\n"),
])
def test_the_calls_that_reach_shared_file_state_are_refused(setting, call, code):
    with Sandbox(setting["policy"], workers=1) as box:
        result = box.run(code.format(library=setting["library"]) + "answer = 'allowed'\n")
        honest = box.run(HONEST)
    assert result.status is Status.RUNTIME_ERROR and "Errno 1]" in result.detail, (call, result)
    assert honest.answer == 42


def test_the_same_calls_still_work_on_what_is_not_shared():
    # the program's own reads, plain preadv and the allocator's madvise are untouched
    code = ("import mmap, os\nopen('f', 'w').write('x' * 10000)\nfd = os.open('f', os.O_RDONLY)\n"
            "buf = bytearray(4)\nos.preadv(fd, [buf], 0)\narea = mmap.mmap(-1, 1 << 20)\n"
            "area.madvise(mmap.MADV_DONTNEED)\nblob = [bytes(10 ** 6) for _ in range(20)]\nanswer = buf.decode()\n")
    with Sandbox(fast_policy(), workers=1) as box:
        result = box.run(code)
    assert result.status is Status.OK and result.answer == "xxxx", result


@pytest.mark.skipif(os.geteuid() != 0, reason="read-only noatime roots need root (documented as a known limit)")
def test_a_programs_reads_leave_no_access_time_on_the_host(setting):
    _reset_atimes(setting)
    path = os.path.join(str(setting["dir"]), "f3")
    with Sandbox(setting["policy"], workers=1) as box:
        result = box.run(f"answer = open({path!r}).read()[:2]")
        assert "noatime" in box.layers["read_roots"]
    assert result.answer == "xx"
    assert os.stat(path).st_atime == pytest.approx(OLD, abs=1), "the read updated the file's atime"
