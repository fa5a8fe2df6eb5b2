from __future__ import annotations

import json
from pathlib import Path

import pytest

from ekt_curate.annotation_teacher import samples
from ekt_curate.problems import iter_problems

FAST_POLICY = """name = "fast-tests"
[limits]
wall_seconds = 2.0
cpu_seconds = 1
"""


@pytest.fixture(scope="session")
def fast_policy_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("policy") / "fast.toml"
    path.write_text(FAST_POLICY)
    return path


def write_jsonl(path: Path, records: list) -> Path:
    with path.open("w") as handle:
        for record in records:
            handle.write(record if isinstance(record, str) else json.dumps(record))
            handle.write("\n")
    return path


@pytest.fixture(scope="session")
def teacher_samples() -> list[dict]:
    """A realistic mix (passes, wrong answers, every failure kind), deterministic."""
    problems = [p for _, p in zip(range(40), iter_problems("gsm8k:train"))]
    return list(samples(problems, 3, seed=1))


def strip_timing(line: str) -> dict:
    record = json.loads(line)
    record["verdict"].pop("cpu_ms")
    record["verdict"].pop("wall_ms")
    return record
