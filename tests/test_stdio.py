"""'-' for standard input and output: the CLI in a real shell pipe, run as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.stages.conftest import fast_policy_file, write_jsonl  # noqa: F401 - a fixture

GOOD = "def solution():\n    return 72\n"
BAD = "def solution():\n    return 71\n"
RECORDS = [{"task_id": "a", "completion": GOOD, "gold": 72}, {"task_id": "b", "completion": BAD, "gold": 72},
           {"task_id": "c", "completion": GOOD, "gold": 72}, {"id": "no-task-id", "completion": GOOD}]


def cli(args: list[str], stdin: bytes, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ekt_curate", *args], input=stdin, cwd=cwd,
                          capture_output=True, timeout=240)


def lines(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.splitlines()]


def test_verify_then_dedup_in_a_pipe(tmp_path, fast_policy_file):
    source = write_jsonl(tmp_path / "samples.jsonl", RECORDS)
    first = cli(["verify", "-q", "-", "-o", "-", "--policy", str(fast_policy_file)], source.read_bytes(), tmp_path)
    assert first.returncode == 0, first.stderr
    verified = lines(first.stdout)  # nothing but records on stdout: the summary went to stderr
    assert [(r["task_id"], r["verdict"]["passed"]) for r in verified] == [("a", True), ("b", False), ("c", True)]
    assert b"pass rate" in first.stderr
    # the rejected line is kept where an output would have been (the current folder for stdin), and named
    rejects = tmp_path / "stdin.verified.rejects.jsonl"
    assert str(rejects).encode() in first.stderr and len(rejects.read_text().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["samples.jsonl", "stdin.verified.rejects.jsonl"]

    second = cli(["dedup", "-q", "-"], first.stdout, tmp_path)  # '-' in, no -o: a filter writes to stdout
    assert second.returncode == 0, second.stderr
    assert [r["task_id"] for r in lines(second.stdout)] == ["a", "c"]
    dropped = tmp_path / "stdin.curated.dropped.jsonl"
    assert dropped.exists() and str(dropped).encode() in second.stderr


def test_a_file_to_stdout_keeps_its_rejects_beside_the_input(tmp_path, fast_policy_file):
    source = write_jsonl(tmp_path / "samples.jsonl", RECORDS)
    done = cli(["verify", "-q", str(source), "-o", "-", "--policy", str(fast_policy_file)], b"", tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(lines(done.stdout)) == 3 and (tmp_path / "samples.verified.rejects.jsonl").exists()
    # a second run would overwrite those rejects: refused before any work, one line
    again = cli(["verify", "-q", str(source), "-o", "-", "--policy", str(fast_policy_file)], b"", tmp_path)
    assert again.returncode == 2 and again.stdout == b"" and again.stderr.count(b"\n") == 1
    assert b"--overwrite" in again.stderr


def test_a_json_array_on_stdin_and_the_errors_of_a_pipe(tmp_path, fast_policy_file):
    policy = ["--policy", str(fast_policy_file)]
    array = json.dumps(RECORDS[:2], indent=2).encode()
    done = cli(["verify", "-q", "-", *policy], array, tmp_path)
    assert done.returncode == 0, done.stderr
    assert [r["verdict"]["passed"] for r in lines(done.stdout)] == [True, False]
    for args, stdin, message in ((["verify", "-", *policy], b"", b"standard input: no records"),
                                 (["verify", "-", "--resume", *policy], array, b"--resume")):
        failed = cli(args, stdin, tmp_path)
        assert failed.returncode == 2 and failed.stderr.count(b"\n") == 1 and message in failed.stderr, failed.stderr


def test_stats_reads_standard_input(tmp_path, fast_policy_file):
    source = write_jsonl(tmp_path / "samples.jsonl", RECORDS[:3])
    verified = cli(["verify", "-q", str(source), "-o", "-", "--policy", str(fast_policy_file)], b"", tmp_path)
    shown = cli(["stats", "-", "--json", str(tmp_path / "s.json")], verified.stdout, tmp_path)
    assert shown.returncode == 0, shown.stderr
    stats = json.loads((tmp_path / "s.json").read_text())
    assert stats["tasks"] == 3 and stats["samples"] == 3
