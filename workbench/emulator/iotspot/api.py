"""The emulator's MODEL of the iotspot open API (the real one is not publicly documented):
workspaces, locations, desks and occupancy behind an API-Gateway-style Cognito authorizer, every
response labelled with the X-Emulator-Model header and every list body with `"model"`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workbench.emulator import jwt_keys
from workbench.emulator.iotspot.oauth import API_SCOPE, ISSUER_PATH
from workbench.emulator.iotspot.world import PLATFORM, World, iso

MODEL_HEADER = "X-Emulator-Model"
MODEL_NOTE = "iotspot API is not public; this is a model"
MODEL_TAG = "iotspot-emulator-model"

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def _add(total: dict[str, int], part: dict[str, int]) -> None:
    for key, value in part.items():
        total[key] = total.get(key, 0) + value


class ModelLabel:
    """Adds the X-Emulator-Model header to every response of the wrapped app (errors too)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def labelled(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((MODEL_HEADER.lower().encode(), MODEL_NOTE.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, labelled)


def _message(text: str, status: int, **headers: str) -> Response:
    return JSONResponse({"message": text}, status, headers=headers or None)


def _not_found() -> Response:
    return _message("Not Found", 404, **{"x-amzn-ErrorType": "NotFoundException"})


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods under the modelled API: JSON like API Gateway, not plain text."""
    status = getattr(exc, "status_code", 404)
    if status == 405:
        return _message("Method Not Allowed", 405, Allow="GET")
    return _not_found()


class Paging:
    def __init__(self, page: int, size: int) -> None:
        self.page, self.size = page, size

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    def body(self, items: list[dict[str, Any]], total: int) -> dict[str, Any]:
        return {
            "items": items,
            "page": self.page,
            "pageSize": self.size,
            "total": total,
            "model": MODEL_TAG,
        }


def _paging(request: Request) -> Paging | Response:
    values: dict[str, int] = {}
    for key, default, top in (("page", 1, None), ("pageSize", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)):
        raw = request.query_params.get(key)
        try:
            value = default if raw is None else int(raw)
        except ValueError:
            value = 0
        if value < 1 or (top is not None and value > top):
            limit = f"between 1 and {top}" if top else "a positive integer"
            return _message(
                f"Invalid request: {key} must be {limit}",
                400,
                **{"x-amzn-ErrorType": "BadRequestException"},
            )
        values[key] = value
    return Paging(values["page"], values["pageSize"])


def _window(paging: Paging, first: int, count: int) -> range:
    """Indices [first, first+count) of the page asked for."""
    lo = min(paging.offset, count)
    hi = min(paging.offset + paging.size, count)
    return range(first + lo, first + hi)


def model_api(world: World, book: Any) -> Starlette:
    def authorize(request: Request) -> Response | None:
        """API Gateway with a Cognito authorizer: 401 for any bad token, 403 for a missing scope."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _message("Unauthorized", 401, **{"x-amzn-ErrorType": "UnauthorizedException"})
        token = token.strip()
        try:
            if jwt.get_unverified_header(token).get("kid") != jwt_keys.IOTSPOT_KID:
                raise jwt.InvalidTokenError("unknown kid")
            claims = jwt_keys.verify(
                token,
                jwt_keys.rsa_private_key().public_key(),
                "RS256",
                options={"require": ["exp", "iat", "iss", "client_id"]},
            )
        except jwt.PyJWTError:
            claims = None
        if (
            claims is None
            or claims.get("token_use") != "access"
            or not str(claims.get("iss", "")).endswith(f"/{PLATFORM}{ISSUER_PATH}")
            or book.access_revoked(token)
        ):
            return _message("Unauthorized", 401, **{"x-amzn-ErrorType": "UnauthorizedException"})
        if API_SCOPE not in str(claims.get("scope", "")).split():
            return _message("Forbidden", 403, **{"x-amzn-ErrorType": "AccessDeniedException"})
        return None

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            denied = authorize(request)
            return denied if denied is not None else handler(request)

        return endpoint

    def paged(request: Request, first: int, count: int, make: Any) -> Response:
        paging = _paging(request)
        if isinstance(paging, Response):
            return paging
        return JSONResponse(paging.body([make(i) for i in _window(paging, first, count)], count))

    def one(
        parse: Callable[[str], int | None], make: Callable[[int], dict[str, Any]]
    ) -> Callable[[Request], Response]:
        """GET .../{id}: `make` of the index `parse` finds in the id, or 404 when it names nothing."""

        def handler(request: Request) -> Response:
            n = parse(request.path_params["id"])
            return _not_found() if n is None else JSONResponse(make(n))

        return handler

    def list_workspaces(request: Request) -> Response:
        return paged(request, 0, world.n_workspaces, world.workspace)

    def workspace_locations(request: Request) -> Response:
        w = world.parse_workspace(request.path_params["id"])
        if w is None:
            return _not_found()
        return paged(request, w * world.per_workspace, world.per_workspace, world.location)

    def location_desks(request: Request) -> Response:
        g = world.parse_location(request.path_params["id"])
        if g is None:
            return _not_found()
        first = world.start(g)
        return paged(request, first, world.start(g + 1) - first, world.desk)

    def list_desks(request: Request) -> Response:
        return paged(request, 0, world.n_desks, world.desk)

    def occupancy_summary(request: Request) -> Response:
        ws_param = request.query_params.get("workspaceId")
        if ws_param is not None:
            w = world.parse_workspace(ws_param)
            if w is None:
                return _not_found()
            workspaces = [w]
        else:
            workspaces = list(range(world.n_workspaces))
        totals = {"total": 0, "occupied": 0, "free": 0, "unknown": 0}
        breakdown: list[dict[str, Any]] = []
        for w in workspaces:
            ws_totals = {"total": 0, "occupied": 0, "free": 0, "unknown": 0}
            locations = []
            for g in range(w * world.per_workspace, (w + 1) * world.per_workspace):
                counts = world.location_counts(g)
                _add(ws_totals, counts)
                locations.append(
                    {
                        "locationId": world.location_id(g),
                        "name": world.location(g)["name"],
                        **counts,
                    }
                )
            _add(totals, ws_totals)
            breakdown.append(
                {
                    "workspaceId": world.workspace_id(w),
                    "name": world.workspace(w)["name"],
                    **ws_totals,
                    "locations": locations,
                }
            )
        body: dict[str, Any] = {"workspaceId": ws_param, **totals}
        if ws_param is not None:
            body["locations"] = breakdown[0]["locations"]
        else:
            body["workspaces"] = breakdown
        body["generatedAt"] = iso(world.started)
        body["model"] = MODEL_TAG
        return JSONResponse(body)

    routes = [
        ("/workspaces", list_workspaces),
        ("/workspaces/{id}", one(world.parse_workspace, world.workspace)),
        ("/workspaces/{id}/locations", workspace_locations),
        ("/locations/{id}", one(world.parse_location, world.location)),
        ("/locations/{id}/desks", location_desks),
        ("/desks", list_desks),
        ("/desks/{id}", one(world.parse_desk, world.desk)),
        ("/desks/{id}/occupancy", one(world.parse_desk, world.occupancy)),
        ("/occupancy", occupancy_summary),
    ]
    return Starlette(
        routes=[Route(path, guarded(handler), methods=["GET"]) for path, handler in routes],
        exception_handlers={404: _http_error, 405: _http_error},
    )
