"""A real kill -9 of `verify --executor local` midway, then --resume: done ranks are skipped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ekt_curate.provenance import read_meta
from tests.distributed.conftest import cli, without_timing

# ~10 ms of CPU each, so that each of the 4 ranks takes about a second
PROGRAM = "x = 0\nfor i in range(150000):\n    x += i\nanswer = {n}\n"


def test_killed_run_resumes_by_ranks(tmp_path: Path, fast_policy: Path) -> None:
    source = tmp_path / "slow.jsonl"
    source.write_text("".join(json.dumps({"task_id": f"t/{n % 7}", "completion": PROGRAM.format(n=n % 3),
                                          "gold": str(n % 2)}) + "\n" for n in range(240)))
    output = tmp_path / "slow.verified.jsonl"
    completions = tmp_path / "slow.verified.datatrove" / "logs" / "completions"
    argv = ["verify", str(source), "-o", str(output), "--policy", str(fast_policy), "--executor", "local",
            "--tasks", "4", "--workers", "1"]
    run = subprocess.Popen([sys.executable, "-m", "ekt_curate", *argv], start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (completions / "00001").exists() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(run.pid, signal.SIGKILL)  # the CLI, its ranks and their sandboxes, at once
    run.wait()
    done = sorted(path.name for path in completions.iterdir())
    assert "00000" in done and "00001" in done and len(done) < 4, done  # killed midway, after two ranks
    assert not output.exists()

    assert cli(*argv, "--resume") == 0
    assert read_meta(output)["distributed"]["ranks_skipped_as_complete"] == len(done)
    single = tmp_path / "single.jsonl"
    assert cli("verify", source, "-o", single, "--policy", fast_policy, "-q") == 0
    assert without_timing(output) == without_timing(single)
