"""sample --backend openai --executor local (4 tasks, 2 at once) against one machine, on a real local
HTTP server (tests/stages/test_sample.py's FakeCompletions: the program depends on each request's seed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ekt_curate.provenance import read_meta
from tests.distributed.conftest import cli
from tests.stages.test_sample import FakeCompletions, endpoint  # noqa: F401 - the server fixture


def sample(url: str, output: Path, *extra: str | Path) -> int:
    return cli("sample", "--backend", "openai", "--base-url", url, "--model", "teacher", "--problems", "gsm8k:test",
               "--limit", "9", "-n", "3", "--concurrency", "2", "-o", output, "-q", *extra)


def test_ranks_by_problem_equal_one_machine_and_resume(endpoint: str, tmp_path: Path) -> None:  # noqa: F811
    single, output = tmp_path / "single.jsonl", tmp_path / "samples.jsonl"
    assert sample(endpoint, single) == 0
    assert sample(endpoint, output, "--executor", "local", "--tasks", "4", "--workers", "2") == 0
    assert output.read_bytes() == single.read_bytes()  # same lines, same order, same seeds
    assert len(output.read_text().splitlines()) == 27
    merged, plain = read_meta(output), read_meta(single)
    assert merged is not None and plain is not None
    for key in ("stage", "problem_count", "samples_written", "n", "model", "seed", "stop", "excluded_exemplars"):
        assert merged[key] == plain[key], key
    assert (merged["distributed"]["kind"], merged["distributed"]["tasks"]) == ("local", 4)

    # rank 3 was killed: only it runs again (2 problems, 6 requests), and the merge is the same
    workdir = tmp_path / "samples.datatrove"
    (workdir / "logs" / "completions" / "00003").unlink()
    (workdir / "ranks" / "samples.shard-3-of-4.jsonl").write_text('{"task_id": "torn"')
    requests = len(FakeCompletions.bodies)
    argv = ("--executor", "local", "--tasks", "4", "--workers", "2")
    assert sample(endpoint, output, *argv) == 2  # an existing run is never silently redone
    assert sample(endpoint, output, *argv, "--resume") == 0
    assert len(FakeCompletions.bodies) - requests == 6
    assert output.read_bytes() == single.read_bytes()
    assert read_meta(output)["distributed"]["ranks_skipped_as_complete"] == 3


@pytest.mark.parametrize("argv, message", [
    (("--backend", "transformers"), "--executor runs the openai backend"),
    (("--verify",), "--verify and --executor do not combine"),
    (("--shard", "0/2"), "--shard and --executor do not combine"),
    (("-n", "0"), "-n must be at least 1"),
    (("--tasks", "0"), "--tasks 0: need at least 1"),
])
def test_bad_options_are_one_line(argv: tuple[str, ...], message: str, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    backend = () if "--backend" in argv else ("--backend", "openai", "--base-url", "http://127.0.0.1:9/v1")
    code = cli("sample", *backend, "--model", "m", "-o", tmp_path / "s.jsonl", "--executor", "local",
               "--tasks", "2", "-q", *argv)
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and "Traceback" not in err[0]
    assert not (tmp_path / "s.datatrove").exists()
