"""The FastAPI application: every endpoint over one SharedSandbox and one Judge.

Each request is admitted (admission.py), then its work runs against a deadline while its client
is watched: a client that goes away, or a deadline that passes, cancels the request's programs
(queued ones withdrawn, running ones killed), so neither holds a worker. A request that was
admitted gets exactly one response; a fault of ours is a JSON message, never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from ekt_curate import __version__
from ekt_curate.judge import Judge
from ekt_curate.sandbox.errors import SandboxError
from ekt_curate.sandbox.result import Result, Status
from ekt_curate.sandbox.shared import Cancelled, Session, SharedSandbox
from ekt_curate.serve import batches, run_code
from ekt_curate.serve.admission import Admission, Full
from ekt_curate.serve.guards import Guards
from ekt_curate.serve.metrics import Metrics
from ekt_curate.serve.models import OpenRLHFRequest, RunCodeRequest, VerifyRequest
from ekt_curate.serve.settings import ServeSettings

log = logging.getLogger("ekt_curate.serve")
GONE = 499  # the client closed its connection before its answer (nginx's code; never sent)


class _Deadline(Exception):
    pass


class _Gone(Exception):
    pass


class _Stopping(Exception):
    pass


class Stopping:
    """SIGTERM's drain: requests still running ``drain`` seconds after it are cancelled and
    answered 503 (with Retry-After), before uvicorn's own limit would cut them off unanswered."""

    def __init__(self, drain: float):
        self.drain = drain
        self.at: float | None = None  # monotonic time the drain ends, once SIGTERM came
        self.cut = 0                  # requests answered 503 at the drain limit

    def begin(self) -> None:  # from the signal handler: a plain assignment, safe anywhere
        if self.at is None:
            self.at = time.monotonic() + self.drain

    @property
    def over(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at


def create_app(settings: ServeSettings, shared: SharedSandbox, judge: Judge, token: str | None = None) -> Any:
    """The ASGI application (FastAPI behind the guards). ``shared`` is started by the caller."""
    app = FastAPI(title="ekt-curate verifier", version=__version__, docs_url=None, redoc_url=None)
    admission = Admission(settings.max_queue, settings.queue_wait)
    metrics = Metrics(lambda: shared.queued, lambda: shared.running, lambda: admission.admitted)
    threads = ThreadPoolExecutor(max_workers=max(8, settings.max_queue // 8), thread_name_prefix="ekt-judge")
    stopping = Stopping(max(settings.drain_seconds - 1.0, 0.0))  # a second to send the 503s
    app.state.metrics, app.state.admission, app.state.threads, app.state.stopping = metrics, admission, threads, stopping

    async def admitted(endpoint: str, request: Request, work: Callable[[Session], Awaitable[Any]]) -> Response:
        try:
            await admission.enter()
        except Full:
            metrics.answered(endpoint, 429)
            return JSONResponse({"detail": f"the server has {settings.max_queue} requests in flight (--max-queue): "
                                           f"retry after a second"}, status_code=429, headers={"Retry-After": "1"})
        started = time.monotonic()
        session = shared.session()
        try:
            body = await _watched(request, work(session), settings.deadline, stopping)
            code, response = 200, JSONResponse(body)
        except _Stopping:
            session.cancel()
            stopping.cut += 1
            code, response = 503, JSONResponse(
                {"detail": "the server is stopping (SIGTERM) and this request did not finish within --drain-seconds: "
                           "send it again"}, status_code=503, headers={"Retry-After": "1"})
        except _Deadline:
            session.cancel()
            code, response = 504, JSONResponse(
                {"detail": f"not answered within {settings.deadline:g} s (--deadline): the server is overloaded"},
                status_code=504)
        except _Gone:
            session.cancel()
            code, response = GONE, Response(status_code=GONE)
        except run_code.BadField as exc:
            code, response = 422, JSONResponse({"detail": f"body.{exc.field}: {exc}"}, status_code=422)
        except ValueError as exc:  # a batch whose lists disagree, and the like: the request's fault
            code, response = 422, JSONResponse({"detail": str(exc)}, status_code=422)
        except (SandboxError, Cancelled) as exc:
            log.error("%s: sandbox failure: %s", endpoint, exc)
            code, response = 503, JSONResponse({"detail": f"sandbox failure: {exc}"}, status_code=503)
        finally:
            await admission.leave()
        metrics.answered(endpoint, code, time.monotonic() - started)
        return response

    async def in_thread(function: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(threads, function, *args)

    def limit_batch(count: int) -> None:
        if count > settings.max_batch:
            raise HTTPException(413, f"{count} samples in one request: at most {settings.max_batch} (--max-batch)")

    @app.post("/run_code")
    async def run_code_endpoint(body: RunCodeRequest, request: Request) -> Response:
        async def work(session: Session) -> dict[str, Any]:
            program = run_code.program_of(body)
            if program is None:
                metrics.count("run_code", {"unsupported_language": 1})
                return run_code.unsupported_language(body.language)
            try:
                result = await _run_one(shared, program)
            except SandboxError as exc:  # theirs to retry: SandboxFusion's own answer for its faults
                result = Result.failure(Status.SANDBOX_ERROR, str(exc))
            metrics.count("run_code", {str(result.status): 1})
            return run_code.response_of(result)

        return await admitted("run_code", request, work)

    @app.post("/verify")
    async def verify_endpoint(body: VerifyRequest, request: Request) -> Response:
        limit_batch(len(body.samples))

        async def work(session: Session) -> dict[str, Any]:
            per_request = judge.through(session, all_cases=body.score == "fraction")
            answer = await in_thread(batches.verify_samples, per_request, body.samples, body.score, body.passed,
                                     body.failed)
            metrics.count("verify", answer["counts"])
            return answer

        return await admitted("verify", request, work)

    @app.post("/get_reward")
    async def openrlhf_endpoint(body: OpenRLHFRequest, request: Request) -> Response:
        limit_batch(len(body.query))
        for name in ("prompts", "labels"):
            values = getattr(body, name)
            if values is not None and len(values) != len(body.query):
                raise HTTPException(422, f"body.{name}: {len(values)} items for {len(body.query)} queries")

        async def work(session: Session) -> dict[str, Any]:
            answer = await in_thread(batches.openrlhf_rewards, judge.through(session), body.query, body.prompts,
                                     body.labels)
            metrics.count("get_reward", {key.split("/", 1)[1]: int(value)
                                         for key, value in answer["extra_logs"].items()})
            return answer

        return await admitted("get_reward", request, work)

    @app.get("/v1/ping")
    async def ping() -> str:
        return "pong"  # SandboxFusion's liveness answer

    @app.get("/health")
    async def health() -> JSONResponse:
        alive = shared.alive
        body = {"status": "ok" if alive else "failed", "version": __version__, "policy": shared.policy.name,
                "workers": shared.sandbox.workers, "in_flight": admission.admitted, "queued_programs": shared.queued,
                "dispatcher_restarts": shared.restarts, "last_failure": shared.last_failure}
        return JSONResponse(body, status_code=200 if alive else 503)  # a probe restarts a server that failed

    @app.get("/metrics")
    async def metrics_endpoint() -> Response:
        return Response(metrics.text(), media_type=metrics.content_type)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type", "")}
                  for error in exc.errors()[:20]]  # never the input back: it may be megabytes
        status = 400 if any(error["type"] == "json_invalid" for error in errors) else 422
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(part) for part in first["loc"]) or "body"
        if first.get("type") == "model_attributes_type" and first["loc"] == ["body"]:
            first = {**first, "msg": "a JSON object is required (and the header Content-Type: application/json)"}
        metrics.answered(request.url.path.strip("/") or "/", status)
        return JSONResponse({"detail": f"{where}: {first['msg']}", "errors": errors}, status_code=status)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error on %s", request.url.path)
        return JSONResponse({"detail": f"internal error ({type(exc).__name__}); the server log has the details"},
                            status_code=500)

    return Guards(app, token, settings.max_body_bytes, settings.body_seconds)


async def _watched(request: Request, work: Awaitable[Any], deadline: float, stopping: Stopping) -> Any:
    """The work's value; _Deadline once ``deadline`` passes, _Gone once the client disconnects,
    _Stopping once a SIGTERM's drain time is over."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnected(request))
    ends = time.monotonic() + deadline if deadline else None
    try:
        while True:
            wait = 0.25 if ends is None else min(0.25, max(ends - time.monotonic(), 0.0))
            done, _ = await asyncio.wait({task, watcher}, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                return task.result()
            if watcher in done:
                raise _Gone()
            if stopping.over:
                raise _Stopping()
            if ends is not None and time.monotonic() >= ends:
                raise _Deadline()
    finally:
        watcher.cancel()
        if not task.done():
            task.cancel()


async def _disconnected(request: Request) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def _run_one(shared: SharedSandbox, program: Any) -> Result:
    """One program through the shared sandbox, awaited without a thread; cancelled with its request."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Result] = loop.create_future()

    def done(result: Result) -> None:
        loop.call_soon_threadsafe(_settle, future, result)

    ticket = shared.submit(program, done)
    try:
        return await future
    except asyncio.CancelledError:  # the request's client went away, or its deadline passed
        shared.cancel(ticket)
        raise


def _settle(future: asyncio.Future, result: Result) -> None:
    if not future.done():
        future.set_result(result)

