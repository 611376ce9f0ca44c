"""Emulated iotconnect (placeholder: replaced by the platform's real emulation)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from .context import EmulatorContext

NAME = "iotconnect"
TOKEN_PATHS: set[str] = set()


def build(ctx: EmulatorContext) -> Starlette:
    return Starlette(routes=[])


def describe(base: str) -> dict[str, Any]:
    return {"urls": {"base": base}, "credentials": {}}
