"""`executor:` in the pipeline YAML: the verify stage runs on datatrove, the rest as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from ekt_curate.errors import EktError
from ekt_curate.stages.pipeline import load_pipeline, run_pipeline
from tests.distributed.conftest import cli, without_timing

PIPELINE = """workdir: work
problems: gsm8k:train
limit: 8
teacher:
  backend: annotations
  n: 2
verify:
  policy: {policy}
executor:
  kind: local
  tasks: 3
  workers: 2
stats:
  k: [1, 2]
train: null
eval: null
"""


def test_verify_stage_on_the_local_executor(tmp_path: Path, fast_policy: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(PIPELINE.format(policy=fast_policy))
    pipeline = load_pipeline(path)
    assert (pipeline.executor.kind, pipeline.executor.tasks, pipeline.executor.workers) == ("local", 3, 2)
    said: list[str] = []
    run_pipeline(pipeline, say=said.append)
    work = tmp_path / "work"
    assert any("on the local executor, 3 ranks" in line for line in said)
    plain = tmp_path / "plain.jsonl"
    assert cli("verify", work / "samples.jsonl", "-o", plain, "--policy", fast_policy, "--problems",
               "gsm8k:train", "-q") == 0
    assert without_timing(work / "samples.verified.jsonl") == without_timing(plain)
    # the dedup stage ran on the executor too (its ranks), and equals plain dedup
    assert (work / "samples.curated.datatrove" / "logs" / "completions").is_dir()
    assert cli("dedup", work / "samples.verified.jsonl", "-o", tmp_path / "curated.jsonl", "-q") == 0
    assert (work / "samples.curated.jsonl").read_bytes() == (tmp_path / "curated.jsonl").read_bytes()
    said.clear()
    run_pipeline(load_pipeline(path), say=said.append)
    assert any("verify: up to date, skipped" in line for line in said)


@pytest.mark.parametrize("section, message", [
    ("executor:\n  kind: spark\n", "executor 'spark': choose one of local, slurm, ray"),
    ("executor:\n  tasks: four\n", "executor tasks must be an integer, got 'four'"),
    ("executor:\n  kind: slurm\n", "--executor slurm needs --partition"),
    ("executor:\n  nodes: 3\n", "unknown key(s) executor.nodes"),
])
def test_bad_executor_section(section: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text("workdir: work\n" + section)
    with pytest.raises(EktError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_pipeline(path)
