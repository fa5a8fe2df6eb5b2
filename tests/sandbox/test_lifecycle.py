"""Leaks, recovery from a dead zygote, and the sandbox's import footprint."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from ekt_curate.sandbox import Sandbox, Status
from tests.sandbox.conftest import fast_policy, sandbox_processes


def _leftovers(area: str) -> list[str]:
    """Everything in a zygote's scratch area but the (empty) dir made for its next job."""
    found = []
    for root, dirs, files in os.walk(area):
        found += [os.path.join(root, name) for name in files]
        found += [os.path.join(root, name) for name in dirs if name != "job" and not name.isdigit()]
        found += [os.path.join(root, name) for name in dirs if name == "job" and os.listdir(os.path.join(root, name))]
    return found


def _open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@pytest.mark.slow
def test_no_leaks_after_2000_runs():
    programs = ["answer = 1\n", "open('f', 'w').write('x' * 100)\nanswer = 2\n", "1 / 0\n", "print('x' * 5000)\n",
                "x = (\n", "import os\nos._exit(3)\n", "import os\nos.kill(0, 9)\n", "answer = [1]\n"]
    with Sandbox(fast_policy(), workers=2) as box:
        box.run("answer = 0\n")
        baseline = {pid: _open_fds(pid) for pid in box.zygote_pids}
        scratch = box._scratch_root
        statuses = {result.status for result in box.map(programs[i % len(programs)] for i in range(2000))}
        assert {Status.OK, Status.RUNTIME_ERROR, Status.SYNTAX_ERROR, Status.NO_ANSWER, Status.KILLED} <= statuses
        assert {pid: _open_fds(pid) for pid in box.zygote_pids} == baseline
        assert sandbox_processes(box) == []
        # every job's scratch dir was removed; only the per-worker areas remain
        areas = sorted(name for name in os.listdir(scratch) if name != ".owner")  # .owner: the sweep's lock
        assert areas == sorted(f"w{i}-{pid}" for i, pid in enumerate(box.zygote_pids))
        # seen from inside each zygote's mount namespace, where its scratch tmpfs are mounted:
        # nothing but the next job's empty dir
        for index, pid in enumerate(box.zygote_pids):
            assert _leftovers(f"/proc/{pid}/root{scratch}/w{index}-{pid}") == []
    assert not os.path.exists(scratch)


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(child) for child in handle.read().split()]
    except FileNotFoundError:
        return []


def _long_running_child(zygote: int, seconds: float = 0.2) -> bool:
    """The zygote has a child that has lived ``seconds`` (a test's sleeping program, not the
    canary that proves a fresh zygote, which takes milliseconds)."""
    ticks = os.sysconf("SC_CLK_TCK")
    uptime = float(open("/proc/uptime").read().split()[0])
    for child in _children(zygote):
        try:
            started = int(open(f"/proc/{child}/stat").read().rsplit(")", 1)[1].split()[19]) / ticks
        except (OSError, IndexError, ValueError):
            continue
        if uptime - started >= seconds:
            return True
    return False


def _when_running(box: Sandbox, action) -> threading.Thread:
    """Call ``action(zygote_pid)`` once the worker's zygote runs a program for a while."""
    def watch() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pid = box.zygote_pids[0] if box.zygote_pids else None
            if pid and _long_running_child(pid):
                action(pid)
                return
            time.sleep(0.01)
    thread = threading.Thread(target=watch)
    thread.start()
    return thread


def test_a_zygote_killed_mid_job_is_replaced_and_its_jobs_run_again():
    with Sandbox(fast_policy(), workers=1) as box:
        first = box.zygote_pids[0]
        watcher = _when_running(box, lambda pid: os.kill(pid, signal.SIGKILL))
        results = list(box.map(["import time\ntime.sleep(0.5)\nanswer = 1\n", "answer = 2\n"]))
        watcher.join()
        assert [(r.status, r.answer) for r in results] == [(Status.OK, 1), (Status.OK, 2)]
        assert box.zygote_pids[0] != first and box.replacements == 1
        assert box._canaries == 2  # the replacement was proved before it got a job, as the first was
        assert box.run("answer = 3\n").answer == 3


def test_a_program_does_not_outlive_its_killed_zygote():
    # The parent-death signal is cleared by the child's change of uid: unless it is set again, a
    # program whose zygote is killed (OOM killer, an operator) sleeps on, beside the next jobs.
    with Sandbox(fast_policy(), workers=1) as box:
        watcher = _when_running(box, lambda pid: os.kill(pid, signal.SIGKILL))
        results = list(box.map(["import time\ntime.sleep(60)\n", "answer = 2\n"]))
        watcher.join()
        assert [r.status for r in results] == [Status.TIMEOUT, Status.OK]
        deadline = time.monotonic() + 5
        while sandbox_processes(box) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sandbox_processes(box) == []


def test_a_stopped_zygote_is_detected_replaced_and_its_jobs_run_again():
    with Sandbox(fast_policy(), workers=1) as box:
        box.end_grace = box.start_grace = 1.0
        first = box.zygote_pids[0]
        watcher = _when_running(box, lambda pid: os.kill(pid, signal.SIGSTOP))
        started = time.monotonic()
        # the child sleeps, so the zygote is stopped while it runs (then cannot reap or report it)
        results = list(box.map(["import time\ntime.sleep(0.5)\nanswer = 1\n", "answer = 2\n"]))
        watcher.join()
        assert [r.status for r in results] == [Status.OK, Status.OK]
        assert box.zygote_pids[0] != first and box.replacements == 1
        assert time.monotonic() - started < 20
    assert not os.path.exists(f"/proc/{first}") or open(f"/proc/{first}/stat").read().split()[2] == "Z"


def test_a_job_that_loses_its_zygote_twice_is_a_sandbox_error():
    with Sandbox(fast_policy(), workers=1) as box:
        killed: list[int] = []

        def kill_twice() -> None:
            deadline = time.monotonic() + 30
            while len(killed) < 2 and time.monotonic() < deadline:
                pid = box.zygote_pids[0] if box.zygote_pids else None
                if pid and pid not in killed and _long_running_child(pid):
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                time.sleep(0.01)

        watcher = threading.Thread(target=kill_twice)
        watcher.start()
        result = box.run("import time\ntime.sleep(1)\nanswer = 1\n")
        watcher.join()
        assert result.status is Status.SANDBOX_ERROR and "died twice" in result.detail
        assert box.run("answer = 4\n").answer == 4


def test_a_zygote_that_died_while_idle_is_replaced_on_the_next_job():
    # the write to the dead zygote fails (EPIPE/ECONNRESET) and recovers like a closed read
    with Sandbox(fast_policy(), workers=1) as box:
        pid = box.zygote_pids[0]
        os.kill(pid, signal.SIGKILL)
        while _children(os.getpid()) and pid in _children(os.getpid()) and \
                open(f"/proc/{pid}/stat").read().split()[2] != "Z":
            time.sleep(0.01)
        assert box.run("answer = 5\n").answer == 5
        assert box.replacements == 1


def test_a_sandbox_made_in_a_thread_that_exits_keeps_working():
    made: list[Sandbox] = []
    thread = threading.Thread(target=lambda: made.append(Sandbox(fast_policy(), workers=1).__enter__()))
    thread.start()
    thread.join()
    box = made[0]
    try:
        time.sleep(0.2)  # a parent-death signal bound to that thread would have fired by now
        assert box.run("answer = 6\n").answer == 6
        assert box.replacements == 0
    finally:
        box.close()


def test_a_sandbox_can_be_used_from_a_worker_thread():
    with Sandbox(fast_policy(), workers=2) as box:
        out: list[object] = []
        thread = threading.Thread(target=lambda: out.extend(r.answer for r in box.map(f"answer = {i}" for i in range(20))))
        thread.start()
        thread.join()
        assert out == list(range(20))


def test_nested_maps_on_one_sandbox_are_refused_with_a_clear_error():
    from ekt_curate.sandbox import SandboxError

    with Sandbox(fast_policy(), workers=1) as box:
        outer = box.map(["answer = 1", "answer = 2"])
        assert next(outer).answer == 1
        with pytest.raises(SandboxError, match="already running a map"):
            box.run("answer = 3")
        assert next(outer).answer == 2


def test_an_abandoned_map_leaves_the_sandbox_clean_for_the_next():
    with Sandbox(fast_policy(), workers=2) as box:
        results = box.map(["import time\ntime.sleep(10)\n"] * 4 + ["answer = 1"])
        started = time.monotonic()
        results.close()
        assert box.run("answer = 7\n").answer == 7
        assert time.monotonic() - started < 5
        assert sandbox_processes(box) == []


def test_programs_larger_than_a_pipe_do_not_stall_the_others():
    padding = "#" + "x" * 1000 + "\n"
    big = padding * 900 + "answer = 11\n"       # ~900 KiB, far more than a pipe holds
    with Sandbox(fast_policy(), workers=2) as box:
        results = list(box.map([big, "answer = 1", big, "answer = 2"] * 3))
        assert [r.answer for r in results] == [11, 1, 11, 2] * 3


def test_importing_the_sandbox_pulls_in_no_ml_stack():
    code = ("import sys, ekt_curate.sandbox as s\n"
            "from ekt_curate.sandbox import Sandbox, load_policy\n"
            "heavy = [m for m in ('torch', 'transformers', 'trl', 'datasets', 'numpy', 'datasketch') if m in sys.modules]\n"
            "print(','.join(heavy))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_threads_policy_allows_threads_but_bounds_them():
    pytest.importorskip("numpy")
    with Sandbox(fast_policy("scientific", threads=4), workers=1) as box:
        ok = box.run("import threading\nout = []\nts = [threading.Thread(target=out.append, args=(i,)) for i in range(3)]\n"
                     "[t.start() for t in ts]\n[t.join() for t in ts]\nanswer = sum(out)\n")
        assert ok.status is Status.OK and ok.answer == 3
        bomb = box.run("import threading, time\nwhile True:\n"
                       "    threading.Thread(target=time.sleep, args=(5,), daemon=True).start()\n")
        assert bomb.status is Status.RUNTIME_ERROR and bomb.exc_type == "RuntimeError"
        fork = box.run("import os\nos.fork()\n")
        assert fork.status is Status.RUNTIME_ERROR and fork.exc_type == "PermissionError"
        numeric = box.run("import numpy as np\nanswer = np.arange(5).sum()\n")
        assert numeric.status is Status.OK and numeric.answer == 10 and type(numeric.answer) is int
        sym = box.run("from sympy import Rational\nanswer = Rational(3, 4) * 2\n")
        assert sym.status is Status.OK and str(sym.answer) == "3/2"


def test_a_failed_start_leaves_no_zygote_behind():
    import dataclasses

    from ekt_curate.sandbox import LayerUnavailable, load_policy

    def children() -> set[int]:
        with open(f"/proc/{os.getpid()}/task/{os.getpid()}/children") as handle:
            return {int(pid) for pid in handle.read().split()}

    before = children()
    base = load_policy("default")
    broken = dataclasses.replace(base, allow=dataclasses.replace(base.allow, preload=("math", "no_such_module")))
    with pytest.raises(LayerUnavailable, match="cannot preload module 'no_such_module'"):
        Sandbox(broken, workers=3).start()
    assert children() - before == set()


def test_roots_are_granted_around_the_package(tmp_path):
    from ekt_curate.sandbox.zygote_fs import roots_without

    for name in ("lib/a", "lib/b", "lib/site/pkg/data", "lib/site/other", "share"):
        (tmp_path / name).mkdir(parents=True)
    (tmp_path / "lib" / "site" / "mod.py").write_text("")
    roots = roots_without([str(tmp_path / "lib"), str(tmp_path / "share")], str(tmp_path / "lib/site/pkg"))
    assert sorted(os.path.relpath(r, tmp_path) for r in roots) == ["lib/a", "lib/b", "lib/site/mod.py",
                                                                  "lib/site/other", "share"]


def test_the_packaged_gold_answers_stay_unreadable_even_beneath_a_granted_root():
    import dataclasses

    import ekt_curate
    from ekt_curate.sandbox import load_policy

    package = os.path.dirname(ekt_curate.__file__)
    base = load_policy("default")
    # grant the folder that holds the package, as a system-wide install would by living in /usr/local/lib
    wide = dataclasses.replace(base, layers=dataclasses.replace(base.layers, drop_privileges=False),
                               allow=dataclasses.replace(base.allow, read_paths=(os.path.dirname(package),)))
    gold_file = os.path.join(package, "data", "gsm8k", "test.jsonl")
    sibling = next(os.path.join(os.path.dirname(package), n) for n in sorted(os.listdir(os.path.dirname(package)))
                   if os.path.isfile(os.path.join(os.path.dirname(package), n)))
    with Sandbox(wide, workers=1) as box:
        assert box.run(f"answer = len(open({sibling!r}, 'rb').read()) >= 0").answer is True
        leak = box.run(f"answer = open({gold_file!r}).readline()")
        assert leak.status is Status.RUNTIME_ERROR and leak.exc_type == "PermissionError"


def test_a_killed_runs_scratch_is_swept_and_a_live_ones_is_not():
    from ekt_curate.sandbox import scratch

    code = ("import sys, time\nsys.path.insert(0, sys.argv[1])\nfrom ekt_curate.sandbox import Sandbox\n"
            "box = Sandbox('default', workers=1)\nbox.start()\nprint(box._scratch_root, flush=True)\ntime.sleep(60)\n")
    doomed = subprocess.Popen([sys.executable, "-c", code, os.getcwd()], stdout=subprocess.PIPE, text=True)
    dead_root = doomed.stdout.readline().strip()
    doomed.kill()
    doomed.wait()
    doomed.stdout.close()
    assert os.path.isdir(dead_root)
    with Sandbox(fast_policy(), workers=1) as live:
        assert not os.path.exists(dead_root)
        assert scratch.sweep_abandoned(os.path.dirname(live._scratch_root)) == []
        assert live.run("answer = 1").answer == 1


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root and unshare")
def test_sandboxes_in_different_pid_namespaces_never_share_a_uid():
    # Zygote pids repeat across PID namespaces; the threads budget (RLIMIT_NPROC) is per uid
    # across the host, so the uid comes from a host-wide claim, not from the pid.
    code = ("import sys\nsys.path.insert(0, sys.argv[1])\nfrom ekt_curate.sandbox import Sandbox\n"
            "with Sandbox('default', workers=2) as box:\n    print(box.layers['privileges'].split(',')[0])\n")
    with Sandbox(fast_policy(), workers=2) as box:
        here = box.layers["privileges"].split(",")[0]
        other = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-c", code, os.getcwd()],
                               capture_output=True, text=True, check=True).stdout.strip()
    uids = {int(text.split("uid ")[1]) for text in (here, other)}
    assert len(uids) == 2, (here, other)
