"""verify end to end through the real sandbox: order, resume, bad input, shards."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ekt_curate.cli import main
from ekt_curate.stages.verify import VerifyConfig, run_verify
from tests.stages.conftest import strip_timing, write_jsonl


def verify(*args: str) -> int:
    return main(["verify", "--quiet", *map(str, args)])


def read_lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def test_verdicts_match_the_teacher_kinds(tmp_path, teacher_samples, fast_policy_file):
    source = write_jsonl(tmp_path / "samples.jsonl", teacher_samples)
    assert verify(source, "--policy", fast_policy_file) == 0
    out = [json.loads(line) for line in read_lines(tmp_path / "samples.verified.jsonl")]
    assert len(out) == len(teacher_samples)
    by_kind: dict[str, set[str]] = {}
    for record in out:
        by_kind.setdefault(record["meta"]["kind"], set()).add(record["verdict"]["status"])
        assert record["task_id"] and record["completion"] is not None  # fields carried through
        failed = {"stderr"} if not record["verdict"]["passed"] else set()  # the excerpt of why (issue 11)
        assert set(record["verdict"]) == {"status", "passed", "answer", "detail", "cpu_ms", "wall_ms", "line"} | failed
    assert by_kind["syntax_error"] == {"syntax_error"}
    assert by_kind["endless_loop"] == {"timeout"}
    assert by_kind["zero_division"] <= {"runtime_error"}
    assert by_kind["name_error"] == {"runtime_error"}
    assert by_kind["no_return"] <= {"no_answer", "wrong_answer"}
    assert "pass" in by_kind["correct"] and "pass" in by_kind["correct_fenced"] and "pass" in by_kind["correct_printed"]
    assert [r["verdict"]["line"] for r in out] == list(range(1, len(out) + 1))


def test_output_is_identical_across_worker_counts_and_runs(tmp_path, teacher_samples, fast_policy_file):
    source = write_jsonl(tmp_path / "s.jsonl", teacher_samples)
    outputs = []
    for index, workers in enumerate((1, 2, 2)):
        out = tmp_path / f"out{index}.jsonl"
        assert verify(source, "-o", out, "--workers", workers, "--policy", fast_policy_file) == 0
        outputs.append([strip_timing(line) for line in read_lines(out)])
    assert outputs[0] == outputs[1] == outputs[2]


def test_gold_from_problems_and_input_untouched(tmp_path, fast_policy_file):
    records = [{"task_id": "gsm8k/test/0", "completion": "answer = 18\n", "extra": [1, 2]},
               {"task_id": "gsm8k/test/1", "code": "def solution():\n    return 2 + 1\n"},
               {"task_id": "gsm8k/test/0", "completion": "answer = 17\n"}]
    source = write_jsonl(tmp_path / "s.jsonl", records)
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    assert verify(source, "--problems", "gsm8k:test", "--policy", fast_policy_file) == 0
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before
    out = [json.loads(line) for line in read_lines(tmp_path / "s.verified.jsonl")]
    assert [r["verdict"]["status"] for r in out] == ["pass", "pass", "wrong_answer"]
    assert out[0]["extra"] == [1, 2] and out[2]["verdict"]["detail"] == "expected 18, got 17"


def test_bad_lines_are_rejected_with_file_and_line(tmp_path, capsys, fast_policy_file):
    lines = [json.dumps({"task_id": "t1", "completion": "answer = 1", "gold": 1}),
             "{not json",
             json.dumps({"completion": "answer = 1", "gold": 1}),
             json.dumps({"task_id": "t2", "gold": 1}),
             json.dumps({"task_id": "t3", "completion": "answer = 1"}),
             json.dumps([1, 2]),
             "",
             json.dumps({"task_id": "t4", "completion": "answer = 4", "gold": "4"})]
    source = write_jsonl(tmp_path / "s.jsonl", lines)
    assert verify(source, "--policy", fast_policy_file) == 0
    err = capsys.readouterr().err
    assert f"{source}:2: not JSON" in err and f"{source}:3: no task_id" in err and f"{source}:4: no program" in err
    assert f"{source}:5: no gold" in err and f"{source}:6: not a JSON object" in err
    assert f"{source}:7:" not in err  # a blank line is layout, not a bad record
    out = [json.loads(line) for line in read_lines(tmp_path / "s.verified.jsonl")]
    rejects = [json.loads(line) for line in read_lines(tmp_path / "s.verified.rejects.jsonl")]
    assert [r["verdict"]["line"] for r in out] == [1, 8]
    assert [r["line"] for r in rejects] == [2, 3, 4, 5, 6] and rejects[0]["raw"] == "{not json"
    steps = json.loads((tmp_path / "s.verified.jsonl.meta.json").read_text())["steps_this_run"]
    assert steps["parse"] == {"seen": 7, "dropped": {"not JSON": 1, "no task_id": 1, "no program": 1,
                                                      "not a JSON object": 1}}
    assert steps["gold"]["dropped"] == {"no gold": 1} and steps["judge"]["seen"] == 7
    assert verify(source, "--policy", fast_policy_file, "--overwrite", "--strict") == 1


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (lambda p: None, [], "no such file"),
        (lambda p: p.write_text(""), [], "file is empty"),
        (lambda p: p.write_text("{}\n"), ["--policy", "nonexistent"], "unknown policy"),
        (lambda p: p.write_text("{}\n"), ["--policy", "/nonexistent/p.toml"], "policy file not found"),
        (lambda p: p.write_text("{}\n"), ["--shard", "3/2"], "need 0 <= I < N"),
        (lambda p: p.write_text("{}\n"), ["--prelude", "/nonexistent.py"], "prelude file not found"),
        (lambda p: p.write_text("{}\n"), ["--answer", "guess"], "unknown answer convention"),
        (lambda p: p.write_text("{}\n"), ["--problems", "gsm8k:dev"], "unknown GSM8K split"),
    ],
)
def test_clear_errors_exit_2_without_traceback(tmp_path, capsys, setup, args, message):
    source = tmp_path / "in.jsonl"
    setup(source)
    assert verify(source, *args) == 2
    err = capsys.readouterr().err
    assert err.startswith("ekt-curate: error:") and message in err and "Traceback" not in err
    assert err.count("\n") == 1


def test_existing_output_needs_resume_or_overwrite(tmp_path, fast_policy_file, capsys):
    source = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "a", "completion": "answer = 1", "gold": 1}])
    assert verify(source, "--policy", fast_policy_file) == 0
    assert verify(source, "--policy", fast_policy_file) == 2
    assert "--resume" in capsys.readouterr().err
    assert verify(source, "--policy", fast_policy_file, "--overwrite") == 0


def _run_cli(*args: object) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ekt_curate", "verify", "--quiet", *map(str, args)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


@pytest.mark.slow
def test_resume_after_kill_9_has_no_duplicates_and_no_gaps(tmp_path, fast_policy_file):
    records = []
    for i in range(600):
        code = f"import time\ntime.sleep(0.002)\nanswer = {i}\n" if i % 50 else "answer = ("
        records.append({"task_id": f"t{i % 37}", "completion": code, "gold": i})
    records[123] = "{broken"  # a reject in the middle, so both files are resumed
    source = write_jsonl(tmp_path / "s.jsonl", records)
    clean = tmp_path / "clean.jsonl"
    assert verify(source, "-o", clean, "--policy", fast_policy_file) == 0
    expected = [strip_timing(line) for line in read_lines(clean)]
    out = tmp_path / "killed.jsonl"
    for attempt, wait_lines in enumerate((40, 200, 350, 500)):
        proc = _run_cli(source, "-o", out, "--policy", fast_policy_file, *(["--resume"] if attempt else []))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not out.exists() or out.read_bytes().count(b"\n") < wait_lines):
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if attempt == 2:  # a torn last line, as a kill in the middle of a write would leave
            with out.open("ab") as handle:
                handle.write(b'{"task_id": "t9", "compl')
    assert verify(source, "-o", out, "--policy", fast_policy_file, "--resume") == 0
    assert [strip_timing(line) for line in read_lines(out)] == expected
    rejects = read_lines(tmp_path / "killed.rejects.jsonl")
    assert [json.loads(line)["line"] for line in rejects] == [124]


def test_resume_of_a_complete_run_does_nothing(tmp_path, fast_policy_file):
    source = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "a", "completion": "answer = 1", "gold": 1}] * 3)
    assert verify(source, "--policy", fast_policy_file) == 0
    before = (tmp_path / "s.verified.jsonl").read_bytes()
    summary = run_verify(VerifyConfig(input=source, policy=str(fast_policy_file), resume=True))
    assert summary.processed == 0 and summary.resumed == 3 and summary.statuses["pass"] == 3
    assert (tmp_path / "s.verified.jsonl").read_bytes() == before


def test_shards_merge_back_to_the_unsharded_output(tmp_path, teacher_samples, fast_policy_file):
    lines: list = list(teacher_samples[:30])
    lines.insert(7, "not json")
    source = write_jsonl(tmp_path / "s.jsonl", lines)
    assert verify(source, "-o", tmp_path / "all.jsonl", "--policy", fast_policy_file) == 0
    shards = []
    for index in range(3):
        assert verify(source, "--shard", f"{index}/3", "--policy", fast_policy_file) == 0
        shards.append(tmp_path / f"s.verified.shard-{index}-of-3.jsonl")
    assert sum(len(read_lines(s)) for s in shards) == len(lines) - 1
    assert main(["merge", *map(str, shards), "-o", str(tmp_path / "merged.jsonl")]) == 0
    merged = [strip_timing(line) for line in read_lines(tmp_path / "merged.jsonl")]
    assert merged == [strip_timing(line) for line in read_lines(tmp_path / "all.jsonl")]
    assert read_lines(tmp_path / "merged.rejects.jsonl") == read_lines(tmp_path / "all.rejects.jsonl")
    assert main(["merge", str(shards[0]), str(shards[0]), "-o", str(tmp_path / "dup.jsonl")]) == 2


def test_prelude_and_answer_convention(tmp_path, fast_policy_file):
    prelude = tmp_path / "prelude.py"
    prelude.write_text("from fractions import Fraction\ndef percent(x, p):\n    return Fraction(x * p, 100)\n")
    source = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "a", "completion": "total = percent(80, 25)\n", "gold": 20},
                                                {"task_id": "b", "completion": "total = 3\nprint(99)", "gold": 3}])
    assert verify(source, "--prelude", prelude, "--answer", "var:total", "--policy", fast_policy_file) == 0
    statuses = [json.loads(line)["verdict"]["status"] for line in read_lines(tmp_path / "s.verified.jsonl")]
    assert statuses == ["pass", "pass"]


@pytest.mark.slow
def test_memory_stays_flat_as_input_grows(tmp_path, fast_policy_file):
    import tracemalloc

    peaks = []
    for count in (1500, 6000):
        source = write_jsonl(tmp_path / f"s{count}.jsonl",
                             [{"task_id": f"t{i % 100}", "completion": f"answer = {i}", "gold": i, "pad": "x" * 200}
                              for i in range(count)])
        tracemalloc.start()
        run_verify(VerifyConfig(input=source, policy=str(fast_policy_file)))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < peaks[0] * 1.5, peaks  # 4x the input, about the same peak
