"""Any OpenAI-compatible completions endpoint (vLLM, SGLang, TGI serve one): the way to use
a large teacher running on a cluster. Requests run concurrently up to a limit, and are
retried with exponential backoff on connection errors, 429 and 5xx (honouring Retry-After).
The API key comes from an environment variable and is never printed."""

from __future__ import annotations

import json
import os
import random
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ekt_curate.errors import EktError
from ekt_curate.sampling.base import Completion, SamplingParams, positional_seeds

RETRYABLE = {408, 409, 429, 500, 502, 503, 504}


class EndpointError(EktError):
    exit_code = 4


class OpenAIBackend:
    name = "openai"

    def __init__(self, base_url: str, model: str, api_key_env: str = "OPENAI_API_KEY", concurrency: int = 16,
                 max_retries: int = 6, timeout: float = 300.0, backoff: float = 0.5):
        # The standard library is enough: a request takes seconds of generation, so a new
        # connection per request costs nothing that matters.
        self.model = model
        self.url = base_url.rstrip("/") + "/completions"
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.backoff = backoff
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json"}
        key = os.environ.get(api_key_env)
        if key:
            self.headers["Authorization"] = f"Bearer {key}"
        self.pool = ThreadPoolExecutor(concurrency)

    def preferred_batch(self, params: SamplingParams) -> int:
        return max(1, self.concurrency * 2 // params.n)  # keep every connection busy

    def generate(self, prompts: list[str], params: SamplingParams, prefix: str | None = None,
                 seeds: list[list[int]] | None = None) -> list[list[Completion]]:
        # One request per sample, with its own seed: a request's seed with n > 1 means different
        # things to different servers (vLLM derives the n children's seeds, others repeat one).
        seeds = seeds or positional_seeds(params, len(prompts))
        jobs = [(prompt, seed) for prompt, row in zip(prompts, seeds) for seed in row]
        flat = list(self.pool.map(lambda job: self._one(job[0], params, job[1])[0], jobs))
        return [flat[i * params.n:(i + 1) * params.n] for i in range(len(prompts))]

    def _one(self, prompt: str, params: SamplingParams, seed: int) -> list[Completion]:
        params = SamplingParams(**{**params.__dict__, "n": 1})
        body: dict[str, Any] = {"model": self.model, "prompt": prompt, "n": 1,
                                "max_tokens": params.max_new_tokens, "temperature": params.temperature,
                                "top_p": params.top_p, "seed": seed}
        if params.stop:
            body["stop"] = list(params.stop)[:4]  # the OpenAI API takes at most four
        data = self._post(body)
        choices = sorted(data.get("choices", []), key=lambda choice: choice.get("index", 0))
        if len(choices) != params.n:
            raise EndpointError(f"{self.url} returned {len(choices)} choices for n={params.n}")
        total = (data.get("usage") or {}).get("completion_tokens")
        each = [None] * len(choices) if total is None else [total // len(choices)] * len(choices)
        return [Completion(choice.get("text", ""), count if count is not None else len(choice.get("text", "")) // 4)
                for choice, count in zip(choices, each)]

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(body).encode()
        for attempt in range(self.max_retries + 1):
            request = urllib.request.Request(self.url, data=data, headers=self.headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as exc:
                if exc.code not in RETRYABLE:
                    detail = exc.read()[:200].decode("utf-8", "replace")
                    raise EndpointError(f"{self.url} answered {exc.code}: {detail}") from None
                reason = f"HTTP {exc.code}"
                retry_after = exc.headers.get("Retry-After")
                wait = float(retry_after) if retry_after and retry_after.replace(".", "", 1).isdigit() else None
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason, wait = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}", None
            if attempt == self.max_retries:
                raise EndpointError(f"{self.url}: gave up after {attempt + 1} attempts ({reason})")
            time.sleep(wait if wait is not None else min(60.0, self.backoff * 2 ** attempt) * (1 + random.random()))
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.pool.shutdown(wait=True)
