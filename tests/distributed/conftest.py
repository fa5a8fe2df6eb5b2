from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("datatrove", reason="the distributed extra is not installed: pip install 'ekt-curate[distributed]'")

from tests.stages.conftest import fast_policy_file  # noqa: E402 - the stages' policy file, one for the session


@pytest.fixture(scope="session")
def fast_policy(fast_policy_file: Path) -> Path:  # noqa: F811 - the fixture above, by its name here
    return fast_policy_file


@pytest.fixture(scope="session")
def samples_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Annotation-teacher samples (passes, wrong answers, failures) with bad lines between them:
    not JSON, no gold, no task_id, a blank line (skipped by verify's reader, so by ours)."""
    from ekt_curate.annotation_teacher import samples
    from ekt_curate.problems import iter_problems

    problems = [problem for _, problem in zip(range(14), iter_problems("gsm8k:train"))]
    lines = [json.dumps(record) for record in samples(problems, 3, seed=1)]
    lines[4:4] = ["{not json"]
    lines[11:11] = [json.dumps({"task_id": "nogold/1", "completion": "answer = 1"})]
    lines[20:20] = [""]
    lines[30:30] = [json.dumps({"completion": "answer = 2", "gold": "2"})]
    path = tmp_path_factory.mktemp("samples") / "samples.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def without_timing(path: Path) -> list[dict]:
    records = [json.loads(line) for line in path.read_text().splitlines()]
    for record in records:
        record["verdict"].pop("cpu_ms")
        record["verdict"].pop("wall_ms")
    return records


def cli(*argv: str | Path) -> int:
    from ekt_curate.cli import main

    return main([str(arg) for arg in argv])
