"""IoTConnect's HTTP conventions: its JSON answers and error envelopes, and how it reads
requests (case-insensitive query parameters and JSON keys, true/false parameters, bearer tokens,
case-insensitive paths as on the real ASP.NET hosts).
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

JSON_TYPE = "application/json; charset=utf-8"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")), status, media_type=JSON_TYPE, headers=headers
    )


def auth_error(message: str, status: int = 401, headers: dict[str, str] | None = None) -> Response:
    """The identity envelope (login, verify, bearer checks)."""
    body = {"status": status, "message": message, "error": {}, "data": {}, "ie": {}}
    return json_response(body, status, headers)


def error(status: int, message: str, *params: tuple[str, str]) -> Response:
    """The general error envelope: {status, message, error: [{param, message}]}."""
    return json_response(
        {
            "status": status,
            "message": message,
            "error": [{"param": p, "message": m} for p, m in params],
        },
        status,
    )


def no_content() -> Response:
    return Response(b"", 204)


def params_of(request: Request) -> dict[str, str]:
    """Query parameters with lower-case names (ASP.NET binds them case-insensitively)."""
    return {k.lower(): v for k, v in request.query_params.items()}


def int_param(params: dict[str, str], name: str, default: int) -> int | tuple[str, str]:
    raw = params.get(name.lower(), "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        return name, f"The value '{raw}' is not valid for {name}."


def bool_param(params: dict[str, str], name: str) -> bool | None | tuple[str, str]:
    raw = params.get(name.lower(), "").strip().lower()
    if not raw:
        return None
    if raw in ("true", "1"):
        return True
    if raw in ("false", "0"):
        return False
    return name, f"The value '{raw}' is not valid for {name}."


async def json_body(request: Request) -> dict[str, Any] | None:
    """The JSON object body with trimmed, lower-case keys; None when it is not a JSON object."""
    try:
        data = json.loads(await request.body() or b"null")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return {str(k).strip().lower(): v for k, v in data.items()}


def bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "").strip()
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return None


def case_insensitive(routes: list[Route]) -> list[Route]:
    for r in routes:
        r.path_regex = re.compile(r.path_regex.pattern, re.IGNORECASE)
    return routes
