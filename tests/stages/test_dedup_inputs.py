"""dedup reads the sources verify reads (parquet, CSV, dataset folders, hf:) and holds the output lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.stages.conftest import write_jsonl

pd = pytest.importorskip("pandas")


def ekt(*args: object, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ekt_curate", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def verified_records() -> list[dict]:
    """Three tasks: an exact duplicate pair, a failing sample, and programs that differ."""
    def record(task: int, completion: str, passed: bool = True) -> dict:
        return {"task_id": f"t/{task}", "question": f"q{task}", "gold": "4", "completion": completion,
                "verdict": {"status": "pass" if passed else "wrong_answer", "passed": passed,
                            "answer": "4" if passed else "5", "cpu_ms": 1.0, "wall_ms": 1.0}}

    return [record(0, "answer = 2 + 2"), record(0, "answer = 2 + 2\n"), record(0, "answer = 5", passed=False),
            record(1, "x = 1\nanswer = x * 4"), record(1, "total = 8\nanswer = total // 2"),
            record(2, "answer = sum([1, 1, 1, 1])")]


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def kept(path: Path) -> list[tuple[str, str]]:
    return [(r["task_id"], r["completion"]) for r in read(path)]


@pytest.fixture
def jsonl_result(tmp_path: Path) -> Path:
    """The JSON Lines run every other source must match."""
    (tmp_path / "ref").mkdir()
    source = write_jsonl(tmp_path / "ref" / "v.jsonl", verified_records())
    done = ekt("dedup", "-q", source, "-o", tmp_path / "ref" / "out.jsonl")
    assert done.returncode == 0, done.stderr
    return tmp_path / "ref" / "out.jsonl"


def test_parquet_dedups_as_json_lines_do(tmp_path: Path, jsonl_result: Path) -> None:
    source = tmp_path / "samples.verified.parquet"
    pd.DataFrame(verified_records()).to_parquet(source)
    done = ekt("dedup", "-q", source)
    assert done.returncode == 0, done.stderr
    output = tmp_path / "samples.curated.jsonl"  # named as for JSON Lines, next to the input
    assert kept(output) == kept(jsonl_result) and len(kept(output)) == 4
    dropped = read(tmp_path / "samples.curated.dropped.jsonl")
    assert sorted(r["dedup_dropped"]["reason"] for r in dropped) == ["exact_duplicate", "not_passed"]
    meta = json.loads((tmp_path / "samples.curated.jsonl.meta.json").read_text())
    assert (meta["read"], meta["kept"], meta["input"]) == (6, 4, str(source))


def test_dataset_folder_with_a_split(tmp_path: Path, jsonl_result: Path) -> None:
    folder = tmp_path / "verified-set"
    (folder / "data").mkdir(parents=True)
    pd.DataFrame(verified_records()).to_parquet(folder / "data" / "test-00000-of-00001.parquet")
    done = ekt("dedup", "-q", f"{folder}:test", env={"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                                                     "HF_HOME": str(tmp_path / "hf-home")})
    assert done.returncode == 0, done.stderr
    assert kept(tmp_path / "verified-set-test.curated.jsonl") == kept(jsonl_result)


def test_csv_of_raw_samples_with_unverified_and_csv_verdicts_refused(tmp_path: Path) -> None:
    raw = tmp_path / "raw.csv"
    pd.DataFrame([{k: v for k, v in r.items() if k != "verdict"} for r in verified_records()]).to_csv(raw, index=False)
    done = ekt("dedup", "-q", raw, "--unverified")
    assert done.returncode == 0, done.stderr
    assert len(read(tmp_path / "raw.curated.jsonl")) == 5  # no verdicts: only the exact duplicate goes
    # a CSV cell holds a verdict as text, not a mapping: refused with one line, nothing written
    text = tmp_path / "v.csv"
    pd.DataFrame([{**r, "verdict": json.dumps(r["verdict"])} for r in verified_records()]).to_csv(text, index=False)
    done = ekt("dedup", "-q", text)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "no record has a verdict" in done.stderr
    assert not (tmp_path / "v.curated.jsonl").exists()


def test_a_bom_and_blank_lines_lose_no_record(tmp_path: Path, jsonl_result: Path) -> None:
    source = tmp_path / "bom.jsonl"
    lines = [json.dumps(r) for r in verified_records()]
    source.write_bytes(b"\xef\xbb\xbf" + "\n\n".join(lines).encode() + b"\n\n")
    done = ekt("dedup", "-q", source)
    assert done.returncode == 0, done.stderr
    assert kept(tmp_path / "bom.curated.jsonl") == kept(jsonl_result)
    assert "invalid_line" not in (tmp_path / "bom.curated.dropped.jsonl").read_text()


@pytest.mark.parametrize(("source", "code", "message"), [
    ("hf:nobody-xyz/no-such-dataset", 4, "nobody-xyz/no-such-dataset"),
    ("missing.jsonl", 2, "no such file"),
    ("table.jsonl", 2, "looks like CSV"),
])
def test_bad_sources_are_one_line(tmp_path: Path, source: str, code: int, message: str) -> None:
    (tmp_path / "table.jsonl").write_text("task_id,completion\nt/0,answer = 4\n")
    done = subprocess.run([sys.executable, "-m", "ekt_curate", "dedup", "-q", source], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                                                         "HF_HOME": str(tmp_path / "hf-home")})
    assert done.returncode == code and done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and not list(tmp_path.glob("*curated*"))


def test_a_second_run_on_the_same_output_is_refused(tmp_path: Path) -> None:
    from ekt_curate.output_lock import OutputLock

    source = write_jsonl(tmp_path / "v.jsonl", verified_records())
    output = tmp_path / "v.curated.jsonl"
    with OutputLock(output):  # the lock a running dedup holds on its output
        done = ekt("dedup", "-q", source, "--overwrite")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "is being written by another run" in done.stderr
    assert not output.exists() and not (tmp_path / "v.curated.dropped.jsonl").exists()
    done = ekt("dedup", "-q", source)  # released: runs, and leaves no lock file behind
    assert done.returncode == 0, done.stderr
    assert output.exists() and not (tmp_path / "v.curated.jsonl.lock").exists()


def test_unverified_samples_in_the_shapes_verify_reads(tmp_path: Path) -> None:
    """Chat responses, Batch API lines and messages lists are samples to dedup too, grouped by the
    id verify would read (custom_id for Batch lines): they were all dropped as invalid lines."""
    def chat(text: str) -> dict:
        return {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}

    records = [
        {"custom_id": "q1", "response": {"status_code": 200, "body": chat("answer = 2 + 2")}},
        {"custom_id": "q1", "response": {"status_code": 200, "body": chat("answer = 2 + 2  # again")}},
        {"task_id": "q2", "response": chat("x = 3\nanswer = x")},
        {"task_id": "q2", "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "answer = 9"}]},
        {"task_id": "q3"},  # no program at all: still an invalid line
    ]
    source = write_jsonl(tmp_path / "raw.jsonl", records)
    done = ekt("dedup", "-q", source, "--unverified")
    assert done.returncode == 0, done.stderr
    kept = [json.loads(line) for line in (tmp_path / "raw.curated.jsonl").read_text().splitlines()]
    dropped = [json.loads(line)["dedup_dropped"] for line in (tmp_path / "raw.curated.dropped.jsonl").read_text().splitlines()]
    assert len(kept) == 3
    assert [(d["reason"], d["line"], d["duplicate_of"]) for d in dropped] == [("exact_duplicate", 2, 1), ("invalid_line", 5, None)]


def test_a_process_pool_writes_what_one_process_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real teacher samples, every kind of early drop, blank lines, chunks of 97 lines: the pool's
    output, dropped file and counts are one process's to the byte."""
    from ekt_curate.annotation_teacher import samples
    from ekt_curate.problems import iter_problems
    from ekt_curate.stages.dedup import DedupConfig, run_dedup
    from ekt_curate.steps import dedup_pool

    problems = [p for _, p in zip(range(120), iter_problems("gsm8k:train"))]
    records = [{**s, "verdict": {"status": "pass" if i % 9 else "wrong_answer", "passed": bool(i % 9)}}
               for i, s in enumerate(samples(problems, 14, seed=3))]
    lines = [json.dumps(r) for r in records]
    lines[5:5] = ["", "not json", json.dumps({"task_id": "x"}), json.dumps({"completion": "é = 1\nx = 'ü'"})]
    source = tmp_path / "v.jsonl"
    source.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(dedup_pool, "CHUNK", 97)
    summaries = {}
    for processes in (1, 2):
        out = tmp_path / f"out{processes}.jsonl"
        summaries[processes] = run_dedup(DedupConfig(input=source, output=out, processes=processes, max_per_task=6))
    one, two = summaries[1], summaries[2]
    assert (one.read, one.kept, one.dropped, one.tasks) == (two.read, two.kept, two.dropped, two.tasks)
    assert set(one.dropped) == {"exact_duplicate", "near_duplicate", "not_passed", "invalid_line", "max_per_task"}
    for name in ("out{}.jsonl", "out{}.dropped.jsonl", "out{}.jsonl.meta.json"):
        assert (tmp_path / name.format(1)).read_bytes() == (tmp_path / name.format(2)).read_bytes()
    # and both are what the plain passes write (plan_dedup, dedup_outcomes: the --executor ranks' path)
    from ekt_curate.jsonl import dumps
    from ekt_curate.sources import iter_raw, parse_source
    from ekt_curate.stages.dedup import dedup_outcomes, plan_dedup

    config = DedupConfig(input=source, max_per_task=6)
    plan = plan_dedup(iter_raw(parse_source(source)), config)
    outcomes = list(dedup_outcomes(iter_raw(parse_source(source)), plan))
    assert (tmp_path / "out1.jsonl").read_bytes() == b"".join(dumps(r) for _, r, why in outcomes if why is None)
    assert (tmp_path / "out1.dropped.jsonl").read_bytes() == b"".join(dumps(r) for _, r, why in outcomes if why)


def test_lines_written_by_appending_are_those_dumps_writes() -> None:
    """Pass 2 appends the dedup key to a line that is jsonl.dumps of its record instead of parsing
    it again: for every kind of line the bytes are what dedup_outcomes and dumps write."""
    from ekt_curate.jsonl import dumps
    from ekt_curate.stages.dedup import DedupConfig, DedupPlan, dedup_outcomes
    from ekt_curate.steps.dedup import Member
    from ekt_curate.steps.dedup_pool import analyse_chunk, encode_chunk

    base = {"task_id": "t/1", "completion": "answer = 4", "verdict": {"passed": True}}
    raws = [dumps(base)[:-1],                                            # verify's own output: appended to
            dumps({**base, "question": "Zoë's ½ cake"})[:-1],              # non-ASCII, as dumps writes it
            json.dumps({**base, "question": "Zoë"}).encode(),              # ASCII escapes: written again
            dumps({**base, "dedup": {"old": 1}})[:-1],                     # the key exists: replaced in place
            dumps({**base, "dedup_dropped": None})[:-1],
            b'{"task_id": "t/1", "completion": "answer = 4", "x": 1e400}',  # inf: not what dumps writes
            b'{"task_id": "t/1", "task_id": "t/1", "completion": "answer = 4"}',  # a repeated key
            b'{"task_id": "t/1", "completion": "x = \\ud800"}',             # a lone surrogate
            b'{"task_id":"t/1","completion":"answer = 4"}',                 # other separators
            b"{}", b"[1]", b"not json"]
    lines = list(enumerate(raws, 1))
    config = DedupConfig(input=Path("x"), unverified=True)
    verbatim = set(analyse_chunk(config, lines).verbatim)
    assert verbatim == {1, 2, 8}  # 8: dumps escapes a lone surrogate, as the line does
    for reason in (None, "exact_duplicate"):
        decided = {line: ("abc123", reason, None if reason is None else 1, 2) for line, _ in lines[:9]}
        early = {line: "invalid_line" for line, _ in lines[9:]}
        plan = DedupPlan(decisions={line: Member(line, d[0], 0, d[1], d[2], d[3]) for line, d in decided.items()},
                         early_drops=early)
        expected_kept = b"".join(dumps(r) for _, r, why in dedup_outcomes(lines, plan) if why is None)
        expected_dropped = b"".join(dumps(r) for _, r, why in dedup_outcomes(lines, plan) if why is not None)
        _, kept, dropped, _, _ = encode_chunk((lines, decided, early, verbatim))
        assert (kept, dropped) == (expected_kept, expected_dropped)


@pytest.mark.parametrize("tail", [b"\n", b"", b"\r\n", b"\n\n  \n"])
def test_workers_read_the_lines_iter_raw_gives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tail: bytes) -> None:
    """A worker reads its range of a JSON Lines file itself: the same numbered lines as iter_raw
    (a BOM, blank and whitespace lines, CRLF, a last line with or without its newline)."""
    from ekt_curate.jsonl import count_lines
    from ekt_curate.sources import iter_raw, parse_source
    from ekt_curate.steps import dedup_pool

    lines = [b'{"a": 1}', b"", b"   ", b'{"b": 2}\r', b"\r", b'{"c": "\xc3\xa9"}', b"\t", b'{"d": 4}\r\r']
    source_path = tmp_path / "v.jsonl"
    source_path.write_bytes(b"\xef\xbb\xbf" + b"\n".join(lines * 5) + tail)
    source = parse_source(source_path)
    for size, block in ((1, 1 << 22), (3, 5), (7, 64), (1000, 1), (1000, 1 << 22)):
        monkeypatch.setattr(dedup_pool, "CHUNK", size)
        monkeypatch.setattr(dedup_pool, "READ_BLOCK", block)
        pieces = list(dedup_pool.pieces(source))
        assert [line for piece in pieces for line in dedup_pool.lines_of(piece)] == list(iter_raw(source))
        assert sum(dedup_pool.size_of(piece) for piece in pieces) == count_lines(source_path)  # progress total
