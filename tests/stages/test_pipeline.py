"""`ekt-curate run`: the whole chain on a few problems, skipping what is done, redoing what changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ekt_curate.cli import main
from ekt_curate.stages.pipeline import load_pipeline, run_pipeline

PIPELINE = """workdir: work
problems: gsm8k:train
limit: 8
teacher: {{backend: annotations, n: 3}}
verify: {{policy: {policy}, workers: 2}}
dedup: {{threshold: {threshold}}}
stats: {{k: [1, 3]}}
publish: {{name: tiny-set}}
train:
  model: {model}
  config: {{num_train_epochs: 1, per_device_train_batch_size: 8, gradient_accumulation_steps: 1, save_strategy: "no"}}
eval: {{problems: gsm8k:test, limit: 2, n: 2, k: [1, 2], max_new_tokens: 12}}
"""


def write(tmp_path: Path, **values: object) -> Path:
    path = tmp_path / "pipeline.yaml"
    path.write_text(PIPELINE.format(**{"threshold": 0.85, **values}))
    return path


@pytest.mark.slow
def test_full_chain_then_skip_then_redo_downstream(tmp_path, tiny_model, fast_policy_file):
    path = write(tmp_path, model=tiny_model, policy=fast_policy_file)
    said: list[str] = []
    results = run_pipeline(load_pipeline(path), say=said.append)
    work = tmp_path / "work"
    assert [line.split(":")[0] for line in said if line.startswith("[")] == [
        "[1/7] sample", "[2/7] verify", "[3/7] dedup", "[4/7] stats", "[5/7] publish", "[6/7] train", "[7/7] eval"]
    assert all("running" in line for line in said if line.startswith("["))
    for produced in ("samples.jsonl", "samples.verified.jsonl", "samples.curated.jsonl", "stats.json", "report.html",
                     "tiny-set/README.md", "student/model.safetensors", "eval/stats.json"):
        assert (work / produced).exists(), produced
    assert results["student"] == work / "student"
    eval_stats = json.loads((work / "eval" / "stats.json").read_text())
    assert eval_stats["tasks"] == 2 and set(eval_stats["pass_at_k"]) == {"1", "2"}

    said.clear()
    run_pipeline(load_pipeline(path), say=said.append)
    assert all("skipped" in line for line in said if line.startswith("["))

    said.clear()
    run_pipeline(load_pipeline(write(tmp_path, model=tiny_model, policy=fast_policy_file, threshold=0.9)),
                 say=said.append)
    status = {line.split(":")[0].split("] ")[1]: line.split(": ")[1] for line in said if line.startswith("[")}
    assert status["sample"] == status["verify"] == "up to date, skipped"
    assert status["dedup"] == status["train"] == status["eval"] == "running"


def test_unknown_keys_are_errors(tmp_path, capsys):
    path = tmp_path / "p.yaml"
    path.write_text("workdir: w\nteacher: {backend: annotations, temprature: 1}\n")
    assert main(["run", str(path)]) == 2
    assert "unknown key(s) teacher.temprature" in capsys.readouterr().err
    path.write_text("workdir: w\nstages: []\n")
    assert main(["run", str(path)]) == 2
    assert "unknown key(s) stages" in capsys.readouterr().err
