"""merge: shards know their count; a missing, repeated or foreign shard is one line; the sidecar."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ekt_curate.cli import main
from ekt_curate.provenance import find_verify, read_meta, write_meta


def make_shards(folder: Path, count: int = 3, lines: int = 9) -> list[Path]:
    """Shard outputs as verify writes them: lines (i - 1) % count == shard, each with its sidecar."""
    (folder / "s.jsonl").write_text("{}\n" * lines)
    write_meta(folder / "s.jsonl", "sample", {"n": 3})
    shards = []
    for index in range(count):
        path = folder / f"s.verified.shard-{index}-of-{count}.jsonl"
        records = [{"task_id": f"t{line % 4}", "completion": "answer = 1",
                    "verdict": {"status": "pass" if line % 2 else "wrong_answer", "passed": bool(line % 2),
                                "line": line}}
                   for line in range(1, lines + 1) if (line - 1) % count == index]
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        write_meta(path, "verify", {"samples": len(records), "policy": "default", "answer": "auto", "rel_tol": 1e-4,
                                    "problems": None, "prelude": None, "shard": [index, count]},
                   upstream=folder / "s.jsonl")
        shards.append(path)
    return shards


def test_merge_writes_a_sidecar_with_the_shards_inside(tmp_path):
    shards = make_shards(tmp_path)
    out = tmp_path / "merged.jsonl"
    assert main(["merge", *map(str, shards), "-o", str(out)]) == 0
    lines = [json.loads(line)["verdict"]["line"] for line in out.read_text().splitlines()]
    assert lines == list(range(1, 10))
    meta = read_meta(out)
    assert meta["stage"] == "merge" and meta["samples"] == 9 and meta["lines"] == 9
    assert meta["statuses"] == {"pass": 5, "wrong_answer": 4} and meta["tasks"] == 4
    assert [shard["shard"] for shard in meta["shards"]] == [[0, 3], [1, 3], [2, 3]]
    assert meta["upstream"]["stage"] == "sample"           # provenance continues past the merge
    assert find_verify(meta)["policy"] == "default"


def test_a_missing_shard_is_one_line_and_nothing_is_written(tmp_path, capsys):
    shards = make_shards(tmp_path)
    out = tmp_path / "merged.jsonl"
    assert main(["merge", str(shards[0]), str(shards[2]), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "shard(s) 1/3 missing" in err and "--allow-partial" in err
    assert not out.exists()
    assert main(["merge", str(shards[0]), str(shards[2]), "-o", str(out), "--allow-partial"]) == 0
    assert "warning: shard(s) 1/3 missing" in capsys.readouterr().err
    assert len(out.read_text().splitlines()) == 6


@pytest.mark.parametrize(("case", "message"), [
    ("twice", "given twice"),
    ("no_sidecar", "no verify sidecar"),
    ("other_policy", "different policy"),
    ("other_count", "different splits"),
])
def test_foreign_or_repeated_shards_are_refused(tmp_path, capsys, case, message):
    shards = make_shards(tmp_path)
    if case == "twice":
        shards = [shards[0], shards[0], shards[1], shards[2]]
    elif case == "no_sidecar":
        Path(f"{shards[1]}.meta.json").unlink()
    elif case in ("other_policy", "other_count"):
        sidecar = Path(f"{shards[1]}.meta.json")
        meta = json.loads(sidecar.read_text())
        meta.update(policy="strict") if case == "other_policy" else meta.update(shard=[1, 2])
        sidecar.write_text(json.dumps(meta))
    out = tmp_path / "merged.jsonl"
    assert main(["merge", *map(str, shards), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not out.exists()
