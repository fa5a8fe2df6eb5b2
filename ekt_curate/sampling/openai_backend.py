"""Any OpenAI-compatible server (vLLM, SGLang, TGI serve one): the way to use a large teacher
running on a cluster, through the official ``openai`` SDK (``AsyncOpenAI``).

- ``endpoint="completions"``: ``/v1/completions`` with the few-shot text (a base model);
  ``endpoint="chat"``: ``/v1/chat/completions`` with messages (an instruct model; the server
  applies the chat template).
- One request per sample, with the sample's own seed (a request's seed with n > 1 means
  different things to different servers), at most ``concurrency`` in flight.
- The SDK retries connection errors, timeouts, 408, 409, 429 and 5xx with exponential backoff,
  honouring ``Retry-After``; what still fails becomes one line and exit code 4.
- The API key comes from an environment variable and is never printed.

The SDK is asynchronous; the stage is not. One event loop runs in a thread of its own for
the backend's lifetime, so the HTTP connections are reused across batches.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

from ekt_curate.errors import EktError
from ekt_curate.sampling.base import Completion, Prompt, SamplingParams, positional_seeds


class EndpointError(EktError):
    exit_code = 4


class OpenAIBackend:
    name = "openai"

    def __init__(self, base_url: str, model: str, api_key_env: str = "OPENAI_API_KEY", concurrency: int = 16,
                 max_retries: int = 6, timeout: float = 300.0, endpoint: str = "completions",
                 send_seed: bool = True):
        try:
            import openai
        except ImportError:
            raise EktError("--backend openai needs the openai package: pip install 'openai>=1.40'") from None
        if endpoint not in ("completions", "chat"):
            raise EktError(f"unknown endpoint {endpoint!r}: use completions or chat")
        self.openai = openai
        self.model = model
        self.endpoint = endpoint
        self.url = base_url.rstrip("/") + ("/chat/completions" if endpoint == "chat" else "/completions")
        self.concurrency = concurrency
        self.send_seed = send_seed
        self.api_key_env = api_key_env
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="ekt-openai", daemon=True)
        self.thread.start()
        # A server without authentication ignores the key, but the SDK insists on one.
        key = os.environ.get(api_key_env) or "no-key"
        self.client = self._run(self._make_client(base_url, key, max_retries, timeout))

    @staticmethod
    async def _make_client(base_url: str, key: str, max_retries: int, timeout: float) -> Any:
        from openai import AsyncOpenAI

        return AsyncOpenAI(base_url=base_url, api_key=key, max_retries=max_retries, timeout=timeout)

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def preferred_batch(self, params: SamplingParams) -> int:
        # Four requests per connection per batch: the batch's tail leaves few connections idle.
        return max(1, self.concurrency * 4 // params.n)

    def generate(self, prompts: list[Prompt], params: SamplingParams, prefix: str | None = None,
                 seeds: list[list[int]] | None = None) -> list[list[Completion]]:
        seeds = seeds or positional_seeds(params, len(prompts))
        jobs = [(prompt, seed) for prompt, row in zip(prompts, seeds) for seed in row]
        flat = self._run(self._all(jobs, params))
        return [flat[i * params.n:(i + 1) * params.n] for i in range(len(prompts))]

    async def _all(self, jobs: list[tuple[Prompt, int]], params: SamplingParams) -> list[Completion]:
        limit = asyncio.Semaphore(self.concurrency)

        async def one(prompt: Prompt, seed: int) -> Completion:
            async with limit:
                return await self._one(prompt, params, seed)

        tasks = [asyncio.ensure_future(one(prompt, seed)) for prompt, seed in jobs]
        try:
            return list(await asyncio.gather(*tasks))
        finally:
            for task in tasks:  # the first failure ends the batch: the others are not awaited
                task.cancel()

    async def _one(self, prompt: Prompt, params: SamplingParams, seed: int) -> Completion:
        openai = self.openai
        kwargs: dict[str, Any] = {"model": self.model, "n": 1, "max_tokens": params.max_new_tokens,
                                  "temperature": params.temperature, "top_p": params.top_p}
        if self.send_seed:
            kwargs["seed"] = seed
        if params.stop:
            kwargs["stop"] = list(params.stop)[:4]  # the OpenAI API takes at most four
        try:
            if self.endpoint == "chat":
                messages = prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]
                response = await self.client.chat.completions.create(messages=messages, **kwargs)
                text = response.choices[0].message.content if response.choices else None
            else:
                response = await self.client.completions.create(prompt=prompt, **kwargs)
                text = response.choices[0].text if response.choices else None
        except openai.APITimeoutError:
            raise EndpointError(f"{self.url}: no answer in time, after retries") from None
        except openai.APIConnectionError as exc:
            raise EndpointError(f"{self.url}: cannot connect, after retries ({_cause(exc)})") from None
        except openai.AuthenticationError as exc:
            raise EndpointError(f"{self.url} refused the key (from ${self.api_key_env}): {_message(exc)}") from None
        except openai.NotFoundError as exc:
            other = "chat" if self.endpoint == "completions" else "completions"
            raise EndpointError(f"{self.url} answered 404 ({_message(exc)}): check --model and --base-url, "
                                f"or try --endpoint {other}") from None
        except openai.APIStatusError as exc:
            raise EndpointError(f"{self.url} answered {exc.status_code}: {_message(exc)}") from None
        except openai.OpenAIError as exc:  # a malformed answer
            raise EndpointError(f"{self.url}: {type(exc).__name__}: {_message(exc)}") from None
        if text is None:
            raise EndpointError(f"{self.url} returned no text for a request")
        usage = getattr(response, "usage", None)
        tokens = usage.completion_tokens if usage is not None and usage.completion_tokens is not None else len(text) // 4
        return Completion(text, tokens)

    def close(self) -> None:
        try:
            self._run(self.client.close())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join()
            self.loop.close()


def _message(exc: Exception) -> str:
    """The server's message on one line, short: an error body can be a whole HTML page."""
    text = str(getattr(exc, "message", None) or exc)
    return " ".join(text.split())[:200]


def _cause(exc: Exception) -> str:
    cause = exc.__cause__ or exc.__context__
    return _message(cause) if cause is not None else _message(exc)
