"""The real vLLM on CPU (make test-vllm, in .venv-vllm). Not collected by `make test`.

A tiny Llama built here with head size 32 (vLLM's CPU attention takes 32, 64, 80 and more,
not the 16 of the default tiny model) and a chat template; one OpenAI-compatible vLLM server
for the whole session. An engine start costs about a minute of CPU, so the tests share them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")  # GiB; the default asks for most of memory

CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")
# Eager mode: torch.compile of the model adds minutes on 2 cores and nothing a test checks.
# The tiny tokenizer (512 tokens) makes the 8-shot prompt about 2,100 tokens long.
ENGINE_ARGS = ("--engine-arg", "enforce_eager=true", "--engine-arg", "max_model_len=4096")


@pytest.fixture(scope="session")
def vllm_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("vllm")
    from transformers import AutoTokenizer

    from ekt_curate.tiny_model import build_tiny_model

    folder = build_tiny_model(tmp_path_factory.mktemp("vllm-model") / "m", hidden=64, heads=2, kv_heads=1)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(folder)
    return folder


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def vllm_server(vllm_model: Path, tmp_path_factory: pytest.TempPathFactory):
    """`python -m vllm.entrypoints.openai.api_server` on 127.0.0.1. Chunked prefill off: with
    it on, a request's seed kills vLLM's CPU engine (see sampling/vllm_backend.py)."""
    port = _free_port()
    log = tmp_path_factory.mktemp("vllm-server") / "server.log"
    command = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(vllm_model),
               "--served-model-name", "tiny", "--host", "127.0.0.1", "--port", str(port), "--enforce-eager",
               "--max-model-len", "4096", "--no-enable-chunked-prefill", "--max-num-batched-tokens", "4096"]
    with log.open("w") as handle:
        server = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            if server.poll() is not None:
                pytest.fail(f"the vLLM server exited with {server.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the vLLM server did not start in 10 minutes:\n{log.read_text()[-3000:]}")
            time.sleep(2)
        yield f"{url}/v1"
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
