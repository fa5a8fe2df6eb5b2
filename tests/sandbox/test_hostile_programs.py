"""Hostile programs: each must end with its expected status, and nothing may escape.

`make test` runs the suite inside a fresh PID namespace, so a sandbox bug that let
a program kill(-1) or fork-bomb would be contained there.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from ekt_curate.sandbox import Result, Sandbox, Status
from tests.sandbox.conftest import fast_policy, sandbox_processes
from tests.sandbox.hostile_programs import HOSTILE

pytestmark = pytest.mark.hostile
GOLD = "GOLD-73512906"  # held only by this process; no program may find it
SECRET = "hf_SECRETTOKEN_5f3a9c"


@dataclass
class Arena:
    results: dict[str, Result]
    marker_dir: str
    tcp: socket.socket
    udp: socket.socket
    unix: socket.socket
    box: Sandbox


@pytest.fixture(scope="module")
def arena() -> Iterator[Arena]:
    # World-writable/readable on purpose: only the sandbox may stop the programs.
    marker_dir = tempfile.mkdtemp(prefix="ekt-hostile-")
    os.chmod(marker_dir, 0o777)
    secret_path = os.path.join(marker_dir, "secret.txt")
    with open(secret_path, "w") as handle:
        handle.write(SECRET)
    os.chmod(secret_path, 0o644)
    tcp = socket.create_server(("127.0.0.1", 0))
    tcp.setblocking(False)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.setblocking(False)
    unix_path = os.path.join(marker_dir, "unix.sock")
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(unix_path)
    unix.listen()
    unix.setblocking(False)
    os.chmod(unix_path, 0o777)
    os.environ["HF_TOKEN"] = SECRET  # the caller's secret: must not reach any program
    gold_holder = {"gold": GOLD}  # noqa: F841 - lives in this process's heap on purpose
    try:
        with Sandbox(fast_policy(), workers=2) as box:
            codes = []
            for _group, name, code, _status in HOSTILE:
                marker = os.path.join(marker_dir, re.sub(r"\W+", "_", name))
                codes.append(code.format(marker=marker, port=tcp.getsockname()[1], udp_port=udp.getsockname()[1],
                                         unix_path=unix_path, secret_path=secret_path, gold=GOLD))
            results = dict(zip([name for _, name, _, _ in HOSTILE], box.map(codes)))
            yield Arena(results, marker_dir, tcp, udp, unix, box)
    finally:
        del os.environ["HF_TOKEN"]
        for sock in (tcp, udp, unix):
            sock.close()
        shutil.rmtree(marker_dir, ignore_errors=True)


def test_the_suite_is_large_enough():
    assert len(HOSTILE) >= 50
    assert len({name for _, name, _, _ in HOSTILE}) == len(HOSTILE)


@pytest.mark.parametrize(("group", "name", "code", "status"), HOSTILE, ids=[f"{g}: {n}" for g, n, _, _ in HOSTILE])
def test_hostile_program(arena: Arena, group: str, name: str, code: str, status: str):
    if group == "scratch quota" and os.geteuid() != 0:
        pytest.skip("the scratch quota is a private tmpfs, which needs root")
    result = arena.results[name]
    assert result.status is Status(status), f"{group}/{name}: {result}"
    assert result.answer != "ESCAPED", f"{group}/{name} got through: {result}"
    for text in (str(result.answer), result.stdout_tail, result.stderr_tail, result.detail):
        assert SECRET not in text and GOLD not in text
    assert not os.path.exists(os.path.join(arena.marker_dir, re.sub(r"\W+", "_", name))), "marker file created"
    assert "ESCAPED" not in result.stdout_tail


def test_denied_calls_surface_as_eperm(arena: Arena):
    # Raw calls report errno: 1 (EPERM) from seccomp, not a crash of the program.
    for name in ("raw clone", "raw vfork", "tcp raw", "udp raw", "unix raw", "socketpair", "raw prlimit",
                 "raw kill parent", "tgkill parent", "attach parent", "traceme", "user namespace", "io_uring"):
        assert arena.results[name].answer == 1, (name, arena.results[name])
    assert arena.results["raw thread clone"].answer == 1
    assert arena.results["os.system"].answer == -1 or arena.results["os.system"].answer == 32512 or \
        arena.results["os.system"].answer < 0


def test_nothing_reached_the_listeners(arena: Arena):
    with pytest.raises(BlockingIOError):
        arena.tcp.accept()
    with pytest.raises(BlockingIOError):
        arena.udp.recvfrom(100)
    with pytest.raises(BlockingIOError):
        arena.unix.accept()


def test_environment_is_scrubbed(arena: Arena):
    seen = arena.results["environment"].answer
    assert "HF_TOKEN" not in seen and SECRET not in seen


def test_gold_is_nowhere_in_the_sandbox(arena: Arena):
    assert arena.results["heap and frames"].answer == "none"
    assert arena.results["argv and stdin"].answer == "['<program>']''"


def test_scratch_quota_says_no_space(arena: Arena):
    if os.geteuid() != 0:
        pytest.skip("needs root")
    for name in ("many files", "many empty files"):
        assert "No space left on device" in arena.results[name].detail, arena.results[name]


def test_no_process_left_and_host_alive(arena: Arena):
    assert sandbox_processes(arena.box) == []
    for pid in arena.box.zygote_pids:
        os.kill(pid, 0)  # raises if a zygote was killed
    assert arena.box.run("answer = 1").answer == 1


def test_timeouts_are_prompt(arena: Arena):
    limits = arena.box.policy.limits
    for name in ("busy loop", "sleeps forever", "swallows BaseException", "huge power"):
        assert arena.results[name].wall_ms < (limits.wall_seconds + 1.5) * 1000
