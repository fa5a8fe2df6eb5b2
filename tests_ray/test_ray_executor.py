"""verify and dedup --executor ray (datatrove's RayPipelineExecutor on a real local cluster)
against the plain single-process commands: the same bytes out, and resume by ranks."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from ekt_curate.provenance import read_meta
from tests.distributed.conftest import cli, without_timing

COUNTS = ("lines", "samples", "rejected", "statuses", "tasks", "tasks_passed")


def rejects(output: Path) -> Path:
    return output.with_name(output.name.removesuffix(".jsonl") + ".rejects.jsonl")


@pytest.fixture(scope="module")
def single(samples_file: Path, fast_policy: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("single") / "samples.verified.jsonl"
    assert cli("verify", samples_file, "-o", output, "--policy", fast_policy, "--workers", "2", "-q") == 0
    return output


def ray_verify(samples_file: Path, fast_policy: Path, output: Path, *extra: str) -> int:
    return cli("verify", samples_file, "-o", output, "--policy", fast_policy,
               "--executor", "ray", "--tasks", "3", "--workers", "2", *extra)


@pytest.fixture(scope="module")
def on_ray(samples_file: Path, fast_policy: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("ray") / "samples.verified.jsonl"
    assert ray_verify(samples_file, fast_policy, output) == 0
    return output


def test_verify_on_ray_is_plain_verify(single: Path, on_ray: Path) -> None:
    assert without_timing(on_ray) == without_timing(single)
    assert rejects(on_ray).read_bytes() == rejects(single).read_bytes()
    merged, plain = read_meta(on_ray), read_meta(single)
    assert merged is not None and plain is not None
    assert {key: merged[key] for key in COUNTS} == {key: plain[key] for key in COUNTS}
    info = merged["distributed"]
    assert (info["kind"], info["tasks"]) == ("ray", 3)
    assert info["steps"] == plain["steps_this_run"]
    # the sandbox ran inside Ray's worker processes with every layer it has in a plain run (the uid
    # numbers differ: sandboxes alive at once claim different uid slots, host-wide)
    def layers(meta: dict) -> dict:
        return {name: re.sub(r"\d+", "N", text) for name, text in meta["sandbox_layers"].items()}

    assert all(layers(shard) == layers(plain) for shard in merged["shards"])


def test_resume_on_ray_runs_only_the_unfinished_rank(single: Path, on_ray: Path, samples_file: Path,
                                                      fast_policy: Path, tmp_path: Path) -> None:
    output = tmp_path / on_ray.name
    workdir = output.with_name("samples.verified.datatrove")
    shutil.copytree(on_ray.with_name(workdir.name), workdir)
    (workdir / "logs" / "completions" / "00001").unlink()  # rank 1 was killed
    rank1 = workdir / "ranks" / "samples.verified.shard-1-of-3.jsonl"
    rank1.write_bytes(rank1.read_bytes()[:100])
    others = {path: path.stat().st_mtime_ns for path in (workdir / "ranks").iterdir() if "shard-1-" not in path.name}
    assert ray_verify(samples_file, fast_policy, output, "--resume") == 0
    assert {path: path.stat().st_mtime_ns for path in others} == others
    assert without_timing(output) == without_timing(single)
    assert read_meta(output)["distributed"]["ranks_skipped_as_complete"] == 2


def test_dedup_on_ray_is_plain_dedup(single: Path, tmp_path: Path) -> None:
    plain, on_ray = tmp_path / "plain.curated.jsonl", tmp_path / "ray.curated.jsonl"
    assert cli("dedup", single, "-o", plain, "--max-per-task", "2", "-q") == 0
    assert cli("dedup", single, "-o", on_ray, "--max-per-task", "2", "--executor", "ray", "--tasks", "2") == 0
    assert on_ray.read_bytes() == plain.read_bytes() and plain.read_bytes()
    kept = [json.loads(line)["task_id"] for line in plain.read_text().splitlines()]
    assert max(kept.count(task) for task in set(kept)) <= 2
    assert read_meta(on_ray)["distributed"]["kind"] == "ray"
