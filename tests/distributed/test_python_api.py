"""The steps inside a datatrove pipeline of one's own, fed by datatrove's JSONL and parquet readers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ekt_curate.distributed import VerifySamples
from tests.distributed.conftest import without_timing


@pytest.mark.parametrize("kind", ["jsonl", "parquet"])
def test_verify_samples_after_datatrove_readers(kind: str, samples_file: Path, fast_policy: Path,
                                                tmp_path: Path) -> None:
    from datatrove.pipeline.readers import JsonlReader, ParquetReader

    from ekt_curate.cli import main

    records = [json.loads(line) for line in samples_file.read_text().splitlines() if line.startswith('{"')]
    good = [record for record in records if "gold" in record and "task_id" in record]
    folder = tmp_path / "in"
    folder.mkdir()
    if kind == "jsonl":
        (folder / "part.jsonl").write_text("".join(json.dumps(record) + "\n" for record in good))
        reader = JsonlReader(str(folder), text_key="completion", id_key="sample_id")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(good), folder / "part.parquet")
        reader = ParquetReader(str(folder), text_key="completion", id_key="sample_id")
    verify = VerifySamples(sandbox_workers=2, policy=str(fast_policy))
    documents = list(verify(reader()))

    plain = tmp_path / "plain.jsonl"
    (tmp_path / "good.jsonl").write_text("".join(json.dumps(record) + "\n" for record in good))
    assert main(["verify", str(tmp_path / "good.jsonl"), "-o", str(plain), "--policy", str(fast_policy), "-q"]) == 0
    expected = [record["verdict"] for record in without_timing(plain)]
    verdicts = [{k: v for k, v in document.metadata["verdict"].items() if k not in ("cpu_ms", "wall_ms")}
                for document in documents]
    assert verdicts == expected  # same verdicts, same order; "line" is the place in the task
    assert [document.metadata["task_id"] for document in documents] == [record["task_id"] for record in good]
    assert verify.step_counts["judge"]["seen"] == len(good)
