"""GET /metrics: Prometheus text from prometheus-client, one registry per application."""

from __future__ import annotations

from typing import Any, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self, queued: Callable[[], int], running: Callable[[], int], admitted: Callable[[], int]):
        self.registry = CollectorRegistry()
        self.requests = Counter("ekt_requests", "requests answered, by endpoint and HTTP status",
                                ["endpoint", "code"], registry=self.registry)
        self.latency = Histogram("ekt_request_seconds", "time from admission to answer, by endpoint",
                                 ["endpoint"], buckets=BUCKETS, registry=self.registry)
        self.verdicts = Counter("ekt_verdicts", "verdicts and run outcomes, by endpoint and status",
                                ["endpoint", "status"], registry=self.registry)
        self.in_flight = Gauge("ekt_requests_in_flight", "requests admitted and not yet answered",
                               registry=self.registry)
        self.in_flight.set_function(admitted)
        queue = Gauge("ekt_queue_depth", "programs waiting for a sandbox worker", registry=self.registry)
        queue.set_function(queued)
        busy = Gauge("ekt_programs_running", "programs handed to sandbox workers", registry=self.registry)
        busy.set_function(running)

    def answered(self, endpoint: str, code: int, seconds: float | None = None) -> None:
        self.requests.labels(endpoint, str(code)).inc()
        if seconds is not None:
            self.latency.labels(endpoint).observe(seconds)

    def count(self, endpoint: str, statuses: dict[str, Any]) -> None:
        for status, count in statuses.items():
            self.verdicts.labels(endpoint, status).inc(count)

    def text(self) -> bytes:
        return generate_latest(self.registry)
