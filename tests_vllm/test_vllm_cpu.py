"""ekt-curate sample with the real vLLM on CPU: the offline engine (--backend vllm) and an
OpenAI-compatible vLLM server (--backend openai, both endpoints): counts, resume, diversity."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests_vllm.conftest import ENGINE_ARGS

LIMIT, N = 5, 4


def sample(out: Path, *args: object) -> subprocess.CompletedProcess:
    """The CLI in a process of its own, as a user runs it (the engine starts worker processes)."""
    command = [sys.executable, "-m", "ekt_curate", "sample", "-q", "--problems", "gsm8k:test",
               "--max-new-tokens", "24", "--temperature", "1.0", "-o", str(out), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=900)


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def check_counts_and_diversity(path: Path, n: int) -> list[dict]:
    samples = rows(path)
    per_task = Counter(s["task_id"] for s in samples)
    assert len(per_task) == LIMIT and set(per_task.values()) == {n}
    for task in per_task:
        assert sorted(s["sample_index"] for s in samples if s["task_id"] == task) == list(range(n))
    # every sample its own seed: distinct draws (one seed per batch gave 9 of 20 here)
    assert len({s["sample_seed"] for s in samples}) == len(samples)
    assert len({s["completion"] for s in samples}) >= 0.9 * len(samples)
    return samples


def test_offline_engine_counts_resume_and_diversity(vllm_model, tmp_path):
    out = tmp_path / "s.jsonl"
    done = sample(out, "--backend", "vllm", "--model", vllm_model, "--limit", LIMIT, "-n", N, *ENGINE_ARGS)
    assert done.returncode == 0, done.stderr[-3000:]
    first = out.read_text()
    check_counts_and_diversity(out, N)
    done = sample(out, "--backend", "vllm", "--model", vllm_model, "--limit", LIMIT, "-n", N + 2, "--resume",
                  *ENGINE_ARGS)
    assert done.returncode == 0, done.stderr[-3000:]
    assert out.read_text().startswith(first)
    samples = check_counts_and_diversity(out, N + 2)
    assert samples[0]["meta"]["backend"] == "vllm" and samples[0]["meta"]["endpoint"] == "completions"
    assert "shared memory" not in done.stderr and "force killing" not in done.stderr.lower()  # engine closed


def test_offline_engine_with_the_chat_template(vllm_model, tmp_path):
    out = tmp_path / "chat.jsonl"
    done = sample(out, "--backend", "vllm", "--model", vllm_model, "--limit", LIMIT, "-n", 2, "--prompt",
                  "pal-chat", *ENGINE_ARGS)
    assert done.returncode == 0, done.stderr[-3000:]
    samples = rows(out)
    assert len(samples) == 2 * LIMIT and all("reply" in s for s in samples)
    assert samples[0]["meta"]["endpoint"] == "chat" and samples[0]["meta"]["chat_template"].startswith("tokenizer:")


def test_a_bad_engine_arg_is_one_line(vllm_model, tmp_path):
    done = sample(tmp_path / "s.jsonl", "--backend", "vllm", "--model", vllm_model, "--limit", 1, "-n", 1,
                  "--engine-arg", "max_model_length=2048")
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ekt-curate: error:") and "max_model_len" in last and "Traceback" not in done.stderr


def test_engine_args_are_typed_by_vllms_own_fields():
    from ekt_curate.errors import EktError
    from ekt_curate.sampling.vllm_engine_args import parse_engine_args

    assert parse_engine_args(["dtype=float32", "max_model_len=4096", "enforce_eager=true",
                              "gpu_memory_utilization=0.5", 'limit_mm_per_prompt={"image": 0}']) == {
        "dtype": "float32", "max_model_len": 4096, "enforce_eager": True, "gpu_memory_utilization": 0.5,
        "limit_mm_per_prompt": {"image": 0}}
    with pytest.raises(EktError, match="dtype=float64: Input should be"):
        parse_engine_args(["dtype=float64"])


def test_server_completions_endpoint(vllm_server, tmp_path):
    out = tmp_path / "s.jsonl"
    common = ("--backend", "openai", "--base-url", vllm_server, "--model", "tiny", "--limit", LIMIT,
              "--concurrency", 8)
    done = sample(out, *common, "-n", N)
    assert done.returncode == 0, done.stderr[-3000:]
    first = out.read_text()
    check_counts_and_diversity(out, N)
    done = sample(out, *common, "-n", N + 2, "--resume")
    assert done.returncode == 0, done.stderr[-3000:]
    assert out.read_text().startswith(first)
    check_counts_and_diversity(out, N + 2)


def test_server_chat_endpoint(vllm_server, tmp_path):
    out = tmp_path / "chat.jsonl"
    done = sample(out, "--backend", "openai", "--base-url", vllm_server, "--model", "tiny", "--limit", LIMIT,
                  "-n", N, "--prompt", "pal-chat", "--endpoint", "chat")
    assert done.returncode == 0, done.stderr[-3000:]
    samples = rows(out)
    assert len(samples) == LIMIT * N and all("reply" in s for s in samples)
    assert len({s["reply"] for s in samples}) >= 0.9 * len(samples)
    assert samples[0]["meta"]["endpoint"] == "chat" and samples[0]["meta"]["chat_template"] == "server"


def test_unreachable_server_is_exit_4(tmp_path):
    done = sample(tmp_path / "s.jsonl", "--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--model",
                  "tiny", "--limit", 1, "-n", 1, "--max-retries", 0)
    assert done.returncode == 4 and done.stderr.count("\n") == 1
