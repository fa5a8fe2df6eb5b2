"""RemoteVerifiedReward: the reward judged by an `ekt-curate serve` on another machine.

    reward = RemoteVerifiedReward("http://verifier:8080", token_file="~/.ekt-token")
    trainer = GRPOTrainer(..., reward_funcs=[reward], ...)   # async: TRL overlaps it with the others

Each call posts the batch to the server's POST /verify, where verify's own steps and the one
Judge give the verdicts; the rewards and the logged status counts are those the in-process
VerifiedAnswerReward gives. Standard library only (urllib in a thread): a trainer node needs no
extra package. 429, 503 and 504 are retried with the server's Retry-After, up to ``retries``.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ekt_curate.fields import ShapeError
from ekt_curate.judge import STATUSES, completion_text
from ekt_curate.judge.reward_value import SCORES
from ekt_curate.rewards.verified import code_test_columns

RETRIED = (429, 503, 504)


class RemoteRewardError(RuntimeError):
    """The server could not be reached or refused the batch (its message says why)."""


class RemoteVerifiedReward:
    def __init__(self, url: str, token: str | None = None, token_file: str | Path | None = None,
                 gold_column: str = "gold", score: str = "all", passed: float = 1.0, failed: float = 0.0,
                 name: str = "verified_answer", timeout: float = 600.0, retries: int = 5):
        if score not in SCORES:
            raise ValueError(f"score must be 'all' or 'fraction', not {score!r}")
        self.url = url.rstrip("/") + "/verify"
        if token is None and token_file is not None:
            token = Path(token_file).expanduser().read_text(encoding="utf-8").strip()
        self._headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
        self.gold_column, self.score, self.passed, self.failed = gold_column, score, passed, failed
        self.timeout, self.retries = timeout, retries
        self.__name__ = name
        self.calls = 0
        self.status_counts: Counter[str] = Counter()
        self.last_verdicts: list[dict[str, object]] = []

    async def __call__(self, completions: Sequence[Any], log_metric: Callable[[str, float], None] | None = None,
                       log_extra: Callable[[str, list], None] | None = None, **columns: Any) -> list[float]:
        return await asyncio.to_thread(self.score_batch, completions, log_metric, log_extra, columns)

    def score_batch(self, completions: Sequence[Any], log_metric: Callable[[str, float], None] | None = None,
                    log_extra: Callable[[str, list], None] | None = None,
                    columns: dict[str, Any] | None = None) -> list[float]:
        """The rewards of one batch, as the async form gives them (for a trainer that calls plainly)."""
        columns = columns or {}
        records = self._records(completions, columns)
        answer = self._post({"samples": records, "score": self.score, "passed": self.passed, "failed": self.failed})
        results = answer.get("results")
        if not isinstance(results, list) or len(results) != len(records):
            raise RemoteRewardError(f"{self.url}: {len(records)} samples sent, "
                                    f"{len(results) if isinstance(results, list) else 'no'} results back")
        verdicts = [result.get("verdict") or {"status": _status_of_reject(result.get("rejected", "")),
                                              "passed": False, "detail": result.get("rejected", "")}
                    for result in results]
        statuses = [str(verdict["status"]) for verdict in verdicts]
        counts = Counter(statuses)
        if log_metric is not None:
            for status in STATUSES:
                log_metric(f"{self.__name__}/{status}", float(counts.get(status, 0)))
        if log_extra is not None:
            log_extra(f"{self.__name__}_status", statuses)
        self.calls += 1
        self.status_counts.update(counts)
        self.last_verdicts = verdicts
        return [float(result["reward"]) for result in results]

    def _records(self, completions: Sequence[Any], columns: dict[str, Any]) -> list[dict[str, Any]]:
        golds = columns.get(self.gold_column)
        tests = code_test_columns(columns, len(completions))
        if golds is None and tests is None:
            raise ValueError(f"the dataset needs a {self.gold_column!r} column (or code tests) for "
                             f"{type(self).__name__} (columns given: {', '.join(sorted(columns)) or 'none'})")
        if tests is None and len(golds) != len(completions):
            raise ValueError(f"{type(self).__name__}: {len(completions)} completions but {len(golds)} golds")
        records = []
        for index, completion in enumerate(completions):
            try:
                text = completion_text(completion)  # as the in-process reward reads it
            except ShapeError:
                text = ""
            record: dict[str, Any] = {"task_id": str(index), "completion": text}
            if tests is not None:
                record.update(tests[index])
            elif golds[index] is not None:
                record["gold"] = golds[index]
            records.append(record)
        return records

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(body).encode("utf-8")
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(self.url, data=data, headers=self._headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as exc:
                message = _message(exc)
                if exc.code not in RETRIED or attempt == self.retries:
                    raise RemoteRewardError(f"{self.url} answered {exc.code}: {message}") from None
                time.sleep(_retry_after(exc, attempt))
            except (urllib.error.URLError, OSError) as exc:
                if attempt == self.retries:
                    raise RemoteRewardError(f"{self.url} cannot be reached: {exc}") from None
                time.sleep(min(2.0 ** attempt, 30.0))
        raise AssertionError("unreachable")


def _status_of_reject(reason: str) -> str:
    """A sample the server's verify steps rejected: an unusable gold or tests (bad_gold, as the
    in-process reward calls it), else a completion without a program."""
    return "bad_gold" if reason.startswith(("no gold", "tests")) else "no_program"


def _message(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read()).get("detail", ""))[:300]
    except (ValueError, AttributeError, OSError):
        return exc.reason if isinstance(exc.reason, str) else ""


def _retry_after(exc: urllib.error.HTTPError, attempt: int) -> float:
    try:
        return min(float(exc.headers.get("Retry-After", "")), 30.0)
    except (TypeError, ValueError):
        return min(2.0 ** attempt, 30.0)
