"""What is checked before any handler runs, as one ASGI middleware: the bearer token (401), the
body's size (413, by Content-Length and as it arrives) and its arrival time (408: a client that
trickles its body cannot hold the server; no sandbox worker is taken before the body is whole)."""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from typing import Any, Callable

from starlette.exceptions import HTTPException

OPEN_PATHS = ("/health", "/v1/ping")  # liveness probes answer without a token


class Guards:
    def __init__(self, app: Callable, token: str | None, max_body: int, body_seconds: float):
        self.app, self.token, self.max_body, self.body_seconds = app, token, max_body, body_seconds
        self._expected = f"Bearer {token}".encode() if token else None

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if self._expected is not None and scope.get("path") not in OPEN_PATHS:
            given = headers.get(b"authorization", b"")
            if not hmac.compare_digest(given, self._expected):
                await _reply(send, 401, "a bearer token is required: 'Authorization: Bearer <token>' "
                                        "(missing or wrong)", {b"www-authenticate": b"Bearer"})
                return
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _reply(send, 413, f"the request body is over {self.max_body} bytes (--max-body-bytes)")
            return
        received = 0
        deadline = time.monotonic() + self.body_seconds
        body_done = False

        async def guarded_receive() -> dict[str, Any]:
            nonlocal received, body_done
            if body_done:  # the body is in: what follows is the client's disconnect, however long
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(deadline - time.monotonic(), 0.001))
            except asyncio.TimeoutError:
                raise HTTPException(408, f"the request body did not arrive within {self.body_seconds:g} s") from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise HTTPException(413, f"the request body is over {self.max_body} bytes (--max-body-bytes)")
                body_done = not message.get("more_body", False)
            return message

        # raised inside the app's body parsing, an HTTPException is answered by its handlers
        await self.app(scope, guarded_receive, send)


async def _reply(send: Callable, status: int, message: str, extra: dict[bytes, bytes] | None = None) -> None:
    body = json.dumps({"detail": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += list((extra or {}).items())
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
