"""--executor slurm without Slurm: the submitted script and pickled pipeline, then each array task
run here the way a node would run it (SLURM_ARRAY_TASK_ID set, the pickle loaded), then --resume merges."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import dill
import pytest

from ekt_curate.distributed.readers import SampleLinesReader
from ekt_curate.distributed.verify_step import VerifySamples
from ekt_curate.distributed.writers import VerdictWriter
from tests.distributed.conftest import cli, without_timing


@pytest.fixture
def sbatch(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[str, ...]]]:
    submitted: list[tuple[str, tuple[str, ...]]] = []

    def launch(script: str, job_id_retriever: object, *args: str) -> str:
        submitted.append((script, args))
        return str(1000 + len(submitted))

    monkeypatch.setattr("datatrove.executor.slurm.launch_slurm_job", launch)
    return submitted


def test_sbatch_script_pickle_and_ranks(sbatch: list, samples_file: Path, fast_policy: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "out.jsonl"
    argv = ("verify", samples_file, "-o", output, "--policy", fast_policy, "--executor", "slurm", "--tasks", "3",
            "--workers", "2", "--partition", "cpu", "--time", "02:00:00", "--cpus-per-task", "2",
            "--qos", "high", "--sbatch-arg", "account=proj")
    assert cli(*argv) == 0
    assert "submitted Slurm job 1001" in capsys.readouterr().out
    assert not output.exists()
    logs = tmp_path / "out.datatrove" / "logs"
    (script, args), (merge_stats, _) = sbatch  # the array, then datatrove's stats merge after it
    assert args == ("--export=ALL,RUN_OFFSET=0",)
    for line in ("#SBATCH --array=0-2%2", "#SBATCH --partition=cpu", "#SBATCH --time=02:00:00",
                 "#SBATCH --cpus-per-task=2", "#SBATCH --qos=high", "#SBATCH --account=proj",
                 f"#SBATCH --output={logs}/slurm_logs/%A_%a.out",
                 f"source {Path(sys.prefix) / 'bin' / 'activate'}",
                 f"srun  -l -n 1 launch_pickled_pipeline {logs}/executor.pik"):
        assert line in script.splitlines() or line in script, line
    assert (logs / "launch_script.slurm").read_text() == script
    assert "dependency=afterok:1001" in merge_stats
    assert json.loads((logs / "ranks_to_run.json").read_text()) == [0, 1, 2]

    with (logs / "executor.pik").open("rb") as handle:
        executor = dill.load(handle)
    reader, verify, writer = executor.pipeline
    assert isinstance(reader, SampleLinesReader) and reader.source.location == str(samples_file)
    assert isinstance(verify, VerifySamples) and verify.config.policy == str(fast_policy)
    assert verify.config.workers == 2  # a rank's sandbox has its --cpus-per-task
    assert isinstance(writer, VerdictWriter) and writer.verify is verify and writer.output == output
    assert executor.world_size == 3

    # what each array task does on its node: load the pickle, run its rank
    monkeypatch.setenv("SLURM_NODELIST", "node1")
    monkeypatch.setattr("datatrove.executor.slurm.expand_slurm_nodelist", lambda nodelist: [nodelist])
    for task in range(3):
        monkeypatch.setenv("SLURM_ARRAY_TASK_ID", str(task))
        with (logs / "executor.pik").open("rb") as handle:
            dill.load(handle).run()
    monkeypatch.delenv("SLURM_ARRAY_TASK_ID")
    assert sorted(path.name for path in (logs / "completions").iterdir()) == ["00000", "00001", "00002"]

    assert cli(*argv, "--resume") == 0  # every rank complete: nothing submitted, the ranks merged
    assert len(sbatch) == 2
    single = tmp_path / "single.jsonl"
    assert cli("verify", samples_file, "-o", single, "--policy", fast_policy, "-q") == 0
    assert without_timing(output) == without_timing(single)
