"""A response with several choices (OpenAI n > 1, in Batch API output or as response objects) is
verified as one sample per choice: each verdict names its line and choice, a choice without text is
rejected alone, resume continues inside a line, and shards merge back to the unsharded file."""

from __future__ import annotations

import json
from pathlib import Path

from ekt_curate.cli import main
from tests.stages.conftest import write_jsonl

GOOD, BAD = "def solution():\n    return 72\n", "def solution():\n    return 71\n"


def batch_line(custom_id: str, *texts: str | None) -> dict:
    choices = [{"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
               for i, text in enumerate(texts)]
    return {"id": f"batch_req_{custom_id}", "custom_id": custom_id,
            "response": {"status_code": 200, "body": {"object": "chat.completion", "choices": choices}}}


def samples_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "batch.jsonl", [
        batch_line("q1", GOOD, BAD, GOOD),
        {"task_id": "q2", "response": {"choices": [{"index": 0, "text": GOOD}]}},    # one choice: one sample
        batch_line("q3", BAD, None),                                                  # the second has no text
        "{not json",
        {"task_id": "q4", "choices": [{"index": 5, "text": BAD}, {"index": 7, "text": GOOD}]},  # the record is the response
    ])


def verify(*args: object) -> int:
    return main(["verify", "--quiet", "--gold-field", "g", "--problems", str(args[0].parent / "gold.jsonl"),
                 *map(str, args)])


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def positions(path: Path) -> list[tuple]:
    return [(r["verdict"]["line"], r["verdict"].get("choice"), r["verdict"]["status"]) for r in rows(path)]


def setup(tmp_path: Path) -> Path:
    write_jsonl(tmp_path / "gold.jsonl", [{"task_id": f"q{i}", "g": 72} for i in range(1, 5)])
    return samples_file(tmp_path)


def test_one_sample_per_choice(tmp_path, fast_policy_file):
    source = setup(tmp_path)
    assert verify(source, "--policy", fast_policy_file) == 0
    out = tmp_path / "batch.verified.jsonl"
    assert positions(out) == [(1, 0, "pass"), (1, 1, "wrong_answer"), (1, 2, "pass"), (2, None, "pass"),
                              (3, 0, "wrong_answer"), (5, 5, "wrong_answer"), (5, 7, "pass")]
    first = rows(out)[0]
    assert first["task_id"] == "q1" and first["completion"] == GOOD
    assert len(first["response"]["body"]["choices"]) == 1  # each record holds only its own choice
    rejects = rows(tmp_path / "batch.verified.rejects.jsonl")
    assert [(r["line"], r.get("choice"), r["reason"].split(":")[0]) for r in rejects] == [
        (3, 1, "no program"), (4, None, "not JSON")]
    meta = json.loads((tmp_path / "batch.verified.jsonl.meta.json").read_text())
    assert (meta["samples"], meta["rejected"], meta["tasks"], meta["tasks_passed"]) == (7, 2, 4, 3)


def test_resume_inside_a_line_of_choices(tmp_path, fast_policy_file):
    source = setup(tmp_path)
    assert verify(source, "--policy", fast_policy_file) == 0
    out, rejects = tmp_path / "batch.verified.jsonl", tmp_path / "batch.verified.rejects.jsonl"
    whole = positions(out), rejects.read_text()
    # a run stopped after the second choice of line 1, and one stopped after all of line 5's choices
    for keep in (2, 7):
        lines = out.read_text().splitlines(keepends=True)
        out.write_text("".join(lines[:keep]))
        if keep == 2:
            rejects.unlink()
        assert verify(source, "--policy", fast_policy_file, "--resume") == 0
        assert (positions(out), rejects.read_text()) == whole, keep


def test_shards_merge_to_the_unsharded_file(tmp_path, fast_policy_file):
    source = setup(tmp_path)
    assert verify(source, "--policy", fast_policy_file) == 0
    for index in range(2):
        assert verify(source, "--policy", fast_policy_file, "--shard", f"{index}/2") == 0
    merged = tmp_path / "merged.jsonl"
    shards = [str(tmp_path / f"batch.verified.shard-{i}-of-2.jsonl") for i in range(2)]
    assert main(["merge", *shards, "-o", str(merged)]) == 0
    assert positions(merged) == positions(tmp_path / "batch.verified.jsonl")
    assert rows(tmp_path / "merged.rejects.jsonl") == rows(tmp_path / "batch.verified.rejects.jsonl")
