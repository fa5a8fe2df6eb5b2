"""stats and publish read the sources verify reads (parquet, CSV, dataset folders, hf:), and publish
holds the output lock while it writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pd = pytest.importorskip("pandas")


def ekt(*args: object, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ekt_curate", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def verified_records() -> list[dict]:
    return [{"task_id": f"gsm8k/train/{i}", "question": f"q{i}", "gold": "2", "completion": f"answer = {i} - {i} + 2",
             "verdict": {"status": "pass", "passed": True, "answer": "2", "detail": "", "cpu_ms": 1.0,
                         "wall_ms": 1.0, "line": i + 1}} for i in range(6)]


@pytest.fixture
def parquet_file(tmp_path: Path) -> Path:
    path = tmp_path / "verified.parquet"
    pd.DataFrame(verified_records()).to_parquet(path)
    return path


def test_stats_reads_parquet(parquet_file: Path, tmp_path: Path) -> None:
    done = ekt("stats", parquet_file, "-q", "--json", tmp_path / "s.json")
    assert done.returncode == 0, done.stderr
    stats = json.loads((tmp_path / "s.json").read_text())
    assert stats["samples"] == 6 and stats["tasks"] == 6 and stats["pass_at_k"]["1"] == 1.0


def test_publish_reads_parquet_and_csv(parquet_file: Path, tmp_path: Path) -> None:
    done = ekt("publish", parquet_file, "--name", "from-parquet", "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    from datasets import load_dataset

    rows = load_dataset(str(tmp_path / "out" / "from-parquet"))["train"]
    assert len(rows) == 6 and rows[0]["completion"].startswith("answer =")
    csv = tmp_path / "v.csv"
    pd.DataFrame([{**r, "verdict": json.dumps(r["verdict"])} for r in verified_records()]).to_csv(csv, index=False)
    done = ekt("publish", csv, "--name", "from-csv", "--out", tmp_path / "out")
    # a CSV cell holds the verdict as text, not a mapping: refused with one line, nothing published
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "no verdict" in done.stderr, done.stderr
    assert not (tmp_path / "out" / "from-csv").exists()


@pytest.mark.parametrize("command", [["stats", "-q"], ["publish", "--name", "x", "--out", "OUT"]])
def test_an_offline_hub_source_is_one_line_exit_4(tmp_path: Path, command: list[str]) -> None:
    argv = [command[0], "hf:nobody-xyz/no-such-dataset", *[str(tmp_path / "o") if a == "OUT" else a
                                                           for a in command[1:]]]
    done = ekt(*argv, env={"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"})
    assert done.returncode == 4 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "o" / "x").exists()


def test_publish_refuses_while_another_publish_writes(parquet_file: Path, tmp_path: Path) -> None:
    from ekt_curate.output_lock import OutputLock

    out = tmp_path / "out"
    out.mkdir()
    with OutputLock(out / "busy"):
        done = ekt("publish", parquet_file, "--name", "busy", "--out", out)
    assert done.returncode == 2 and "is being written by another run" in done.stderr
    assert done.stderr.count("\n") == 1 and not (out / "busy").exists()
