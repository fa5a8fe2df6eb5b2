"""verify --executor local (LocalPipelineExecutor, 4 tasks, 2 at once) against plain verify."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from ekt_curate.provenance import read_meta
from tests.distributed.conftest import cli, without_timing

COUNTS = ("lines", "samples", "rejected", "statuses", "tasks", "tasks_passed")


@pytest.fixture(scope="module")
def single(samples_file: Path, fast_policy: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("single") / "samples.verified.jsonl"
    assert cli("verify", samples_file, "-o", output, "--policy", fast_policy, "--workers", "2", "-q") == 0
    return output


@pytest.fixture(scope="module")
def distributed(samples_file: Path, fast_policy: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("distributed") / "samples.verified.jsonl"
    assert cli("verify", samples_file, "-o", output, "--policy", fast_policy,
               "--executor", "local", "--tasks", "4", "--workers", "2") == 0
    return output


def rejects(output: Path) -> Path:
    return output.with_name(output.name.removesuffix(".jsonl") + ".rejects.jsonl")


def test_identical_to_plain_verify_including_rejects(single: Path, distributed: Path) -> None:
    assert without_timing(distributed) == without_timing(single)
    assert rejects(distributed).read_bytes() == rejects(single).read_bytes()
    reasons = [json.loads(line)["reason"].split(":")[0] for line in rejects(single).read_text().splitlines()]
    assert reasons == ["not JSON", "no gold", "no task_id"]


def test_merged_sidecar_sums_the_ranks(single: Path, distributed: Path) -> None:
    merged, plain = read_meta(distributed), read_meta(single)
    assert merged is not None and plain is not None
    assert merged["stage"] == "merge"
    assert {key: merged[key] for key in COUNTS} == {key: plain[key] for key in COUNTS}
    assert [shard["shard"] for shard in merged["shards"]] == [[rank, 4] for rank in range(4)]
    info = merged["distributed"]
    assert (info["kind"], info["tasks"], info["workers"]) == ("local", 4, 2)
    assert info["steps"] == plain["steps_this_run"]  # per-step counts, summed over the ranks
    stats = json.loads((distributed.with_name("samples.verified.datatrove") / "logs" / "stats.json").read_text())
    verify_stats = next(step for step in stats if step["name"] == "🔬 - VERIFY: ekt verify")["stats"]
    total = {key: value if isinstance(value, int) else value["total"] for key, value in verify_stats.items()}
    assert total["samples"] == plain["samples"]
    assert total["step parse: dropped not JSON"] == 1


def test_a_killed_rank_runs_again_and_only_it(single: Path, distributed: Path, samples_file: Path,
                                              fast_policy: Path, tmp_path: Path) -> None:
    output = tmp_path / distributed.name
    workdir = output.with_name("samples.verified.datatrove")
    shutil.copytree(distributed.with_name(workdir.name), workdir)
    # rank 2 was killed midway: no completion mark, half its output and a torn line
    (workdir / "logs" / "completions" / "00002").unlink()
    rank2 = workdir / "ranks" / "samples.verified.shard-2-of-4.jsonl"
    text = rank2.read_bytes()
    rank2.write_bytes(text[: len(text) // 2])
    others = {path: path.stat().st_mtime_ns for path in (workdir / "ranks").iterdir() if "shard-2-" not in path.name}
    argv = ("verify", samples_file, "-o", output, "--policy", fast_policy, "--executor", "local",
            "--tasks", "4", "--workers", "2")
    assert cli(*argv) == 2  # an existing run is never silently redone
    assert cli(*argv, "--resume") == 0
    assert {path: path.stat().st_mtime_ns for path in others} == others  # completed ranks not run again
    assert without_timing(output) == without_timing(single)
    assert rejects(output).read_bytes() == rejects(single).read_bytes()
    assert read_meta(output)["distributed"]["ranks_skipped_as_complete"] == 3


def test_resume_with_other_settings_is_refused(distributed: Path, samples_file: Path, fast_policy: Path,
                                               tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / distributed.name
    shutil.copytree(distributed.with_name("samples.verified.datatrove"), tmp_path / "samples.verified.datatrove")
    code = cli("verify", samples_file, "-o", output, "--policy", fast_policy, "--executor", "local",
               "--tasks", "8", "--resume")
    assert code == 2
    assert "different tasks (4 vs 8)" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (("--shard", "0/2"), "--shard and --executor do not combine"),
    (("--tasks", "0"), "--tasks 0: need at least 1"),
    (("--executor", "slurm"), "--executor slurm needs --partition"),
    (("--policy", "no-such-policy"), "no-such-policy"),  # checked before any rank starts
])
def test_bad_options_are_one_line(argv: tuple[str, ...], message: str, samples_file: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    executor = () if "--executor" in argv else ("--executor", "local")
    assert cli("verify", samples_file, "-o", tmp_path / "out.jsonl", *executor, *argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and "Traceback" not in err[0]
    assert not (tmp_path / "out.datatrove").exists()


def test_missing_datatrove_is_a_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from ekt_curate.distributed import deps
    from ekt_curate.errors import EktError

    real = importlib.util.find_spec
    monkeypatch.setattr(deps, "find_spec", lambda name: None if name == "datatrove" else real(name))
    with pytest.raises(EktError, match=r"need datatrove: pip install 'ekt-curate\[distributed\]'"):
        deps.require_datatrove()


@pytest.mark.skipif(os.cpu_count() is None, reason="needs os.cpu_count")
def test_each_rank_gets_its_share_of_the_cores() -> None:
    from ekt_curate.distributed.executors import ExecutorConfig

    cores = os.cpu_count() or 1
    assert ExecutorConfig(tasks=4, workers=2).sandbox_workers() == max(1, cores // 2)
    assert ExecutorConfig(tasks=1).sandbox_workers() == cores
    assert ExecutorConfig(kind="slurm", partition="p", cpus_per_task=3).sandbox_workers() == 3


def test_responses_with_several_choices_on_ranks_equal_plain_verify(fast_policy: Path, tmp_path: Path) -> None:
    """Each choice is a document of its own on its rank, and the merge keeps them in choice order."""
    from tests.stages.test_verify_choices import setup

    source = setup(tmp_path)
    common = ("--problems", tmp_path / "gold.jsonl", "--gold-field", "g", "--policy", fast_policy)
    plain, ranked = tmp_path / "plain.jsonl", tmp_path / "ranked.jsonl"
    assert cli("verify", source, "-o", plain, *common, "-q") == 0
    assert cli("verify", source, "-o", ranked, *common, "--executor", "local", "--tasks", "2", "--workers", "2") == 0
    assert without_timing(ranked) == without_timing(plain)
    assert rejects(ranked).read_bytes() == rejects(plain).read_bytes()
    assert [r["verdict"].get("choice") for r in without_timing(plain)] == [0, 1, 2, None, 0, 5, 7]
