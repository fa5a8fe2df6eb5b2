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
                                    "gold_precision": "auto", "checker": "strict", "problems": None,
                                    "prelude": None, "shard": [index, count]},
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
    ("other_checker", "different checker"),
    ("other_gold_precision", "different gold_precision"),
    ("other_count", "different splits"),
])
def test_foreign_or_repeated_shards_are_refused(tmp_path, capsys, case, message):
    shards = make_shards(tmp_path)
    if case == "twice":
        shards = [shards[0], shards[0], shards[1], shards[2]]
    elif case == "no_sidecar":
        Path(f"{shards[1]}.meta.json").unlink()
    else:
        sidecar = Path(f"{shards[1]}.meta.json")
        meta = json.loads(sidecar.read_text())
        meta.update({"other_policy": {"policy": "strict"}, "other_checker": {"checker": "math-verify"},
                     "other_gold_precision": {"gold_precision": "off"}, "other_count": {"shard": [1, 2]}}[case])
        sidecar.write_text(json.dumps(meta))
    out = tmp_path / "merged.jsonl"
    assert main(["merge", *map(str, shards), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not out.exists()


def test_a_shard_of_nothing_but_rejects_is_an_empty_shard(tmp_path, fast_policy_file, capsys):
    """verify --shard 1/2 of a file whose even lines are all broken writes no output, only rejects
    and a sidecar (samples 0); merge takes it, keeps its rejects and equals an unsharded verify."""
    from tests.stages.conftest import strip_timing, write_jsonl

    good = [{"task_id": f"t{i}", "completion": f"answer = {i}", "gold": str(i)} for i in range(3)]
    source = write_jsonl(tmp_path / "s.jsonl", [good[0], "{broken", good[1], {"task_id": "x"}, good[2], "[1]"])
    policy = ["--policy", str(fast_policy_file), "--workers", "1", "-q"]
    shards = [tmp_path / f"s.shard-{i}.jsonl" for i in range(2)]
    for index, shard in enumerate(shards):
        main(["verify", str(source), "-o", str(shard), "--shard", f"{index}/2", *policy])
    assert not shards[1].exists() and read_meta(shards[1])["samples"] == 0
    plain = tmp_path / "plain.jsonl"
    main(["verify", str(source), "-o", str(plain), *policy])
    capsys.readouterr()
    out = tmp_path / "merged.jsonl"
    assert main(["merge", *map(str, shards), "-o", str(out)]) == 0
    assert "3 samples" in capsys.readouterr().out
    assert list(map(strip_timing, out.read_text().splitlines())) == list(map(strip_timing, plain.read_text().splitlines()))
    rejects = tmp_path / "merged.rejects.jsonl"
    assert rejects.read_bytes() == (tmp_path / "plain.rejects.jsonl").read_bytes()
    assert [json.loads(line)["line"] for line in rejects.read_text().splitlines()] == [2, 4, 6]
    meta = read_meta(out)
    assert (meta["samples"], meta["rejected"], meta["lines"]) == (3, 3, 6)


def test_every_shard_empty_merges_to_an_empty_file(tmp_path):
    shards = make_shards(tmp_path, count=2, lines=4)
    for shard in shards:
        shard.write_text("")
        meta = read_meta(shard)
        write_meta(shard, "verify", {**{k: meta[k] for k in ("policy", "answer", "rel_tol", "gold_precision",
                                                          "checker", "problems", "prelude", "shard")}, "samples": 0})
    shards[0].unlink()  # missing or empty: both are what verify leaves when it wrote no verdict
    out = tmp_path / "merged.jsonl"
    assert main(["merge", *map(str, shards), "-o", str(out)]) == 0
    assert out.exists() and out.read_text() == "" and read_meta(out)["samples"] == 0


def test_a_missing_shard_file_without_a_sidecar_is_still_one_line(tmp_path, capsys):
    shards = make_shards(tmp_path)
    shards[1].unlink()
    Path(f"{shards[1]}.meta.json").unlink()
    assert main(["merge", *map(str, shards), "-o", str(tmp_path / "m.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err


def test_an_unfinished_shard_is_refused_unless_allow_partial(tmp_path):
    """A shard whose verify run was stopped (sidecar complete: false) holds only a prefix of its lines."""
    import subprocess
    import sys

    shards = make_shards(tmp_path)
    meta = read_meta(shards[1])
    write_meta(shards[1], "verify", {**{k: v for k, v in meta.items() if k not in ("stage", "upstream")},
                                     "complete": False}, upstream=tmp_path / "s.jsonl")
    out = tmp_path / "merged.jsonl"
    argv = [sys.executable, "-m", "ekt_curate", "merge", *map(str, shards), "-o", str(out)]
    done = subprocess.run(argv, capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "did not finish (sidecar says complete: false)" in done.stderr and "--allow-partial" in done.stderr
    assert not out.exists() and not read_meta(out)
    done = subprocess.run([*argv, "--allow-partial"], capture_output=True, text=True)
    assert done.returncode == 0 and "warning:" in done.stderr and len(out.read_text().splitlines()) == 9
