"""Fault injection: an ASGI middleware driven by per-platform switches, and the admin API.

Admin API (JSON), mounted at /_emulator:

    GET  /_emulator/faults                      -> {platform: {switch: value}}
    POST /_emulator/faults/{platform}           body: partial {switch: value} -> that platform's switches
    POST /_emulator/faults/reset                -> every switch off
    POST /_emulator/tokens/expire               body: {"platform": P} (optional) -> expire all access tokens now
    POST /_emulator/tokens/revoke-refresh       body: {"platform": P} (optional) -> revoke all refresh tokens
    GET  /_emulator/big?mb=N                    -> a valid JSON document of about N MB (for big-body work)
    GET  /_emulator/health                      -> {"status": "ok", "platforms": [...]}

Switches (see PlatformFaults): latency_ms, error_rate, reset, truncate, invalid_json,
huge_body_mb, maintenance, token_rate_limit; and the device grant's tuning (device_grant.py):
device_code_ttl, device_code_interval, device_slow_down.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workbench.emulator.context import FAULT_FIELDS, PLATFORMS, EmulatorContext, PlatformFaults

MAINTENANCE_HTML = (
    b"<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head>"
    b"<body><h1>Down for maintenance</h1><p>The service is being upgraded. Try again later.</p></body></html>"
)


def huge_json(mb: int) -> bytes:
    """A valid JSON document of about `mb` MB: {"data": [ {device-like record}, ... ]}."""
    target = mb * 1024 * 1024
    parts: list[bytes] = []
    size = 0
    i = 0
    while size < target:
        rec = json.dumps(
            {
                "id": f"dev-{i:08d}",
                "name": f"sensor {i}",
                "online": i % 3 != 0,
                "temperature": round(20 + (i % 97) / 10, 1),
                "tags": ["emulated", "huge", f"rack-{i % 40}"],
                "location": {"lat": 52.0 + (i % 1000) / 1e4, "lon": 4.0 + (i % 777) / 1e4},
            },
            separators=(",", ":"),
        ).encode()
        parts.append(rec)
        size += len(rec) + 1
        i += 1
    return b'{"count":' + str(i).encode() + b',"data":[' + b",".join(parts) + b"]}"


class FaultMiddleware:
    """Applies the switches of the platform a request's path belongs to."""

    def __init__(
        self, app: ASGIApp, ctx: EmulatorContext, token_paths: dict[str, set[str]]
    ) -> None:
        self.app = app
        self.ctx = ctx
        self.token_paths = token_paths

    def _platform(self, path: str) -> tuple[str | None, str]:
        for p in PLATFORMS:
            prefix = "/" + p
            if path == prefix or path.startswith(prefix + "/"):
                return p, path[len(prefix) :] or "/"
        return None, path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        platform, rest = self._platform(scope["path"])
        if platform is None:
            await self.app(scope, receive, send)
            return
        f = self.ctx.faults[platform]
        if f.latency_ms:
            await asyncio.sleep(f.latency_ms / 1000)
        if f.maintenance:
            await Response(
                MAINTENANCE_HTML, 503, media_type="text/html", headers={"Retry-After": "120"}
            )(scope, receive, send)
            return
        if f.token_rate_limit and rest in self.token_paths.get(platform, set()):
            now = time.monotonic()
            window = [t for t in self.ctx.token_requests[platform] if now - t < 60]
            if len(window) >= f.token_rate_limit:
                retry = max(1, int(60 - (now - window[0])) + 1)
                self.ctx.token_requests[platform] = window
                await JSONResponse(
                    {"error": "slow_down", "error_description": "too many token requests"},
                    429,
                    headers={"Retry-After": str(retry)},
                )(scope, receive, send)
                return
            window.append(now)
            self.ctx.token_requests[platform] = window
        if f.error_rate and random.random() < f.error_rate:
            await Response(b"Internal Server Error", 500, media_type="text/plain")(
                scope, receive, send
            )
            return
        if f.reset:
            # Headers go out, then the connection is dropped without a body.
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", b"1000"),
                    ],
                }
            )
            raise ConnectionResetError("emulated connection reset")
        accept = dict(scope.get("headers", [])).get(b"accept", b"")
        if b"text/event-stream" in accept or not (f.truncate or f.invalid_json or f.huge_body_mb):
            # Body faults never buffer a live event stream (it would never answer).
            await self.app(scope, receive, send)
            return
        await self._rewrite(scope, receive, send, f)

    async def _rewrite(self, scope: Scope, receive: Receive, send: Send, f: PlatformFaults) -> None:
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        assert start is not None
        body = b"".join(chunks)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        status = start["status"]
        if f.huge_body_mb:
            body = huge_json(f.huge_body_mb)
            headers = [(k, v) for k, v in headers if k.lower() != b"content-type"]
            headers.append((b"content-type", b"application/json"))
            status = 200
        if f.invalid_json:
            body = b'{"data": [{"id": "x", "name": <html>oops</html>' + b"\x00\x1b[31m garbage"
        if f.truncate:
            full = len(body)
            headers.append((b"content-length", str(full).encode()))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body[: full // 2], "more_body": True})
            raise ConnectionResetError("emulated truncated body")
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _platform_arg(body: dict[str, Any]) -> list[str] | None:
    p = body.get("platform")
    if p is None:
        return list(PLATFORMS)
    if p not in PLATFORMS:
        return None
    return [p]


async def _json_body(request: Request) -> dict[str, Any] | None:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def admin_routes(ctx: EmulatorContext) -> list[Route]:
    async def get_faults(request: Request) -> Response:
        return JSONResponse({p: f.as_dict() for p, f in ctx.faults.items()})

    async def set_faults(request: Request) -> Response:
        platform = request.path_params["platform"]
        if platform == "reset":
            for p in PLATFORMS:
                ctx.faults[p] = PlatformFaults()
            return JSONResponse({p: f.as_dict() for p, f in ctx.faults.items()})
        if platform not in ctx.faults:
            return JSONResponse(
                {"error": f"unknown platform {platform!r}", "platforms": list(PLATFORMS)}, 404
            )
        body = await _json_body(request)
        if body is None:
            return JSONResponse({"error": "body must be a JSON object"}, 400)
        f = ctx.faults[platform]
        for key, value in body.items():
            kind = FAULT_FIELDS.get(key)
            if kind is None:
                return JSONResponse(
                    {"error": f"unknown fault {key!r}", "faults": list(FAULT_FIELDS)}, 400
                )
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                return JSONResponse({"error": f"fault {key!r} must be {kind.__name__}"}, 400)
        for key, value in body.items():
            setattr(f, key, float(value) if FAULT_FIELDS[key] is float else value)
        return JSONResponse(f.as_dict())

    async def expire(request: Request) -> Response:
        body = await _json_body(request)
        platforms = _platform_arg(body or {})
        if platforms is None:
            return JSONResponse({"error": "unknown platform"}, 404)
        return JSONResponse({"expired": {p: ctx.tokens[p].expire_all_access() for p in platforms}})

    async def revoke(request: Request) -> Response:
        body = await _json_body(request)
        platforms = _platform_arg(body or {})
        if platforms is None:
            return JSONResponse({"error": "unknown platform"}, 404)
        return JSONResponse({"revoked": {p: ctx.tokens[p].revoke_all_refresh() for p in platforms}})

    async def big(request: Request) -> Response:
        try:
            mb = max(1, min(int(request.query_params.get("mb", "10")), 200))
        except ValueError:
            return JSONResponse({"error": "mb must be an integer"}, 400)
        return Response(huge_json(mb), media_type="application/json")

    async def health(request: Request) -> Response:
        return JSONResponse(
            {"status": "ok", "platforms": list(PLATFORMS), "devices": ctx.config.devices}
        )

    return [
        Route("/faults", get_faults, methods=["GET"]),
        Route("/faults/{platform}", set_faults, methods=["POST", "PUT"]),
        Route("/tokens/expire", expire, methods=["POST"]),
        Route("/tokens/revoke-refresh", revoke, methods=["POST"]),
        Route("/big", big, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
    ]
