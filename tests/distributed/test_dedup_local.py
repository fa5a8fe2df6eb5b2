"""dedup --executor local (LocalPipelineExecutor, 4 tasks, 2 at once), ranks by task, against plain dedup."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ekt_curate.provenance import read_meta
from tests.distributed.conftest import cli

COUNTS = ("read", "kept", "dropped", "tasks", "threshold", "num_perm", "max_per_task", "keep_failed", "unverified")


@pytest.fixture(scope="module")
def verified(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A verified-looking file: 12 tasks, passes and fails, renamed copies (exact duplicates), a near
    duplicate, bad lines and a blank one; task ids of both types (7 and "7" are one task)."""
    from ekt_curate.annotation_teacher import samples
    from ekt_curate.problems import iter_problems

    problems = [problem for _, problem in zip(range(12), iter_problems("gsm8k:train"))]
    lines = []
    for index, record in enumerate(samples(problems, 6, seed=2)):
        record["verdict"] = {"passed": index % 5 != 0, "status": "pass", "line": index + 1}
        lines.append(json.dumps(record))
        if index % 7 == 0:
            lines.append(json.dumps({**record, "completion": "# again\n" + record["completion"]}))
        if index % 11 == 0:
            lines.append(json.dumps({**record, "completion": record["completion"] + "\nx = 1"}))
    lines += [json.dumps({"task_id": 7, "completion": "answer = 7", "verdict": {"passed": True}}),
              json.dumps({"task_id": "7", "completion": "answer  =  7  # same", "verdict": {"passed": True}})]
    lines[5:5] = ["{not json", "", json.dumps({"completion": "x = 1", "verdict": {"passed": True}}), "[1, 2]"]
    path = tmp_path_factory.mktemp("dedup") / "samples.verified.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def single(verified: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("single") / "curated.jsonl"
    assert cli("dedup", verified, "-o", output, "--max-per-task", "3", "-q") == 0
    return output


@pytest.fixture(scope="module")
def distributed(verified: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("distributed") / "curated.jsonl"
    assert cli("dedup", verified, "-o", output, "--max-per-task", "3", "--executor", "local",
               "--tasks", "4", "--workers", "2", "-q") == 0
    return output


def dropped(output: Path) -> Path:
    return output.with_name(output.name.removesuffix(".jsonl") + ".dropped.jsonl")


def test_identical_to_plain_dedup(single: Path, distributed: Path) -> None:
    assert distributed.read_bytes() == single.read_bytes()
    assert dropped(distributed).read_bytes() == dropped(single).read_bytes()
    reasons = {json.loads(line)["dedup_dropped"]["reason"] for line in dropped(single).read_text().splitlines()}
    assert reasons == {"invalid_line", "not_passed", "exact_duplicate", "near_duplicate", "max_per_task"}
    # line and duplicate_of are the input's own numbers, across ranks
    records = [json.loads(line) for line in dropped(distributed).read_text().splitlines()]
    assert [r["dedup_dropped"]["line"] for r in records] == sorted(r["dedup_dropped"]["line"] for r in records)


def test_ranks_own_whole_tasks_and_the_sidecar_sums_them(single: Path, distributed: Path) -> None:
    merged, plain = read_meta(distributed), read_meta(single)
    assert merged is not None and plain is not None and merged["stage"] == "dedup"
    assert {key: merged[key] for key in COUNTS} == {key: plain[key] for key in COUNTS}
    info = merged["distributed"]
    assert (info["kind"], info["tasks"], info["workers"]) == ("local", 4, 2)
    assert [rank["shard"] for rank in info["ranks"]] == [[rank, 4] for rank in range(4)]
    assert sum(rank["tasks"] for rank in info["ranks"]) == plain["tasks"]
    owners: dict[str, set[int]] = {}
    for rank in range(4):
        for line in (distributed.with_name("curated.datatrove") / "ranks" / f"curated.shard-{rank}-of-4.jsonl"
                     ).read_text().splitlines():
            owners.setdefault(str(json.loads(line)["task_id"]), set()).add(rank)
    assert all(len(ranks) == 1 for ranks in owners.values()) and len(set().union(*owners.values())) > 1


def test_resume_runs_only_the_rank_not_complete(verified: Path, single: Path, distributed: Path,
                                                tmp_path: Path) -> None:
    output = tmp_path / distributed.name
    workdir = tmp_path / "curated.datatrove"
    shutil.copytree(distributed.with_name(workdir.name), workdir)
    (workdir / "logs" / "completions" / "00001").unlink()  # rank 1 was killed midway
    rank1 = workdir / "ranks" / "curated.shard-1-of-4.jsonl"
    rank1.write_bytes(rank1.read_bytes()[:10])
    others = {path: path.stat().st_mtime_ns for path in (workdir / "ranks").iterdir() if "shard-1-" not in path.name}
    argv = ("dedup", verified, "-o", output, "--max-per-task", "3", "--executor", "local", "--tasks", "4", "-q")
    assert cli(*argv) == 2  # an existing run is never silently redone
    assert cli(*argv, "--resume") == 0
    assert {path: path.stat().st_mtime_ns for path in others} == others
    assert output.read_bytes() == single.read_bytes()
    assert dropped(output).read_bytes() == dropped(single).read_bytes()
    assert read_meta(output)["distributed"]["ranks_skipped_as_complete"] == 3
    assert cli(*argv, "--resume", "--threshold", "0.9") == 2  # other settings: refused


def test_a_file_without_verdicts_is_refused_as_plain_dedup_does(tmp_path: Path, capsys) -> None:
    raw = tmp_path / "raw.jsonl"
    raw.write_text("".join(json.dumps({"task_id": f"t{i % 3}", "completion": f"answer = {i}"}) + "\n"
                           for i in range(9)))
    out = tmp_path / "out.jsonl"
    assert cli("dedup", raw, "-o", out, "--executor", "local", "--tasks", "4", "--workers", "2", "-q") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no record has a verdict" in err[0]
    assert not out.exists() and not (tmp_path / "out.datatrove").exists()
    assert cli("dedup", raw, "-o", out, "--executor", "local", "--tasks", "4", "--workers", "2", "-q",
               "--unverified") == 0
    assert cli("dedup", raw, "-o", tmp_path / "plain.jsonl", "--unverified", "-q") == 0
    assert out.read_bytes() == (tmp_path / "plain.jsonl").read_bytes()


@pytest.mark.parametrize("argv, message", [
    (("--tasks", "0"), "--tasks 0: need at least 1"),
    (("--threshold", "2"), "--threshold must be in (0, 1]"),
    (("--executor", "slurm"), "--executor slurm needs --partition"),
])
def test_bad_options_are_one_line(argv: tuple[str, ...], message: str, verified: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    executor = () if "--executor" in argv else ("--executor", "local")
    assert cli("dedup", verified, "-o", tmp_path / "out.jsonl", *executor, *argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and "Traceback" not in err[0]
    assert not (tmp_path / "out.datatrove").exists()


def test_quiet_keeps_datatrove_logs_off_stderr(verified: Path, tmp_path: Path) -> None:
    """In a process of its own: ranks inherit the stderr of datatrove's forkserver, not pytest's."""
    import subprocess
    import sys

    argv = [sys.executable, "-m", "ekt_curate", "dedup", str(verified), "--executor", "local", "--tasks", "2",
            "--workers", "2"]
    loud = subprocess.run([*argv, "-o", str(tmp_path / "loud.jsonl")], capture_output=True, text=True, check=True)
    assert "INFO" in loud.stderr and "Launching pipeline" in loud.stderr  # datatrove's per-rank logging
    quiet = subprocess.run([*argv, "-o", str(tmp_path / "quiet.jsonl"), "-q"], capture_output=True, text=True,
                           check=True)
    assert quiet.stderr == ""
    assert (tmp_path / "quiet.jsonl").read_bytes() == (tmp_path / "loud.jsonl").read_bytes()
    logs = (tmp_path / "quiet.datatrove" / "logs" / "logs").iterdir()
    assert all("Launching pipeline" in log.read_text() for log in logs)  # still in the ranks' log files


def test_a_parquet_input_is_read_as_plain_dedup_reads_it(verified: Path, tmp_path: Path) -> None:
    """Ranks read the source as plain dedup does (ekt_curate.sources), not as JSON Lines: a
    parquet file was once read as lines of bytes, and refused as having no verdicts."""
    from datasets import Dataset

    records = []
    for line in verified.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "task_id" in record:
            records.append({**record, "task_id": str(record["task_id"])})
    parquet = tmp_path / "verified.parquet"
    Dataset.from_list(records).to_parquet(str(parquet))
    plain, ranked = tmp_path / "plain.curated.jsonl", tmp_path / "ranked.curated.jsonl"
    assert cli("dedup", parquet, "-o", plain, "--max-per-task", "3", "-q") == 0
    assert cli("dedup", parquet, "-o", ranked, "--max-per-task", "3", "--executor", "local",
               "--tasks", "3", "--workers", "2", "-q") == 0
    assert ranked.read_bytes() == plain.read_bytes()
    assert dropped(ranked).read_bytes() == dropped(plain).read_bytes()
    kept = read_meta(ranked)["kept"]
    assert kept == len(plain.read_text().splitlines()) and kept > len(records) // 3
    reasons = {json.loads(line)["dedup_dropped"]["reason"] for line in dropped(plain).read_text().splitlines()}
    assert "invalid_line" not in reasons
