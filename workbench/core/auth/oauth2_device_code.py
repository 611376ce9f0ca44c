"""OAuth2 device authorization grant (RFC 8628) — the login made for terminals.

1. POST the client id (and scope / audience / resource when the profile has them) to the
   device authorization endpoint (discovery's ``device_authorization_endpoint`` or the
   profile's ``device_authorization_url``); the answer names a ``device_code`` (secret), a
   ``user_code``, the ``verification_uri`` (+ ``verification_uri_complete``), ``expires_in``
   and the polling ``interval`` (default 5 s);
2. the display callback (``ctx.show_device_code``) shows the person what to open and type
   (the CLI prints it with a QR code, the TUI shows a panel);
3. the token endpoint is polled with ``grant_type=urn:ietf:params:oauth:grant-type:device_code``
   every ``interval`` seconds: ``authorization_pending`` keeps polling, ``slow_down`` adds 5 s
   to the interval (RFC 8628 §3.5), ``access_denied`` and ``expired_token`` end the login in
   words (AuthError, exit 3). The whole wait is bounded by ``expires_in``; the context's cancel
   event ends it at once.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from workbench.core.auth.base import FlowContext, TokenSet, require_json_object, server_message
from workbench.core.auth.oauth2_common import FORM, OAuth2Flow, ensure_secure, token_error
from workbench.core.errors import AuthError
from workbench.core.text import escape_control

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_INTERVAL = 5  # RFC 8628 §3.2: "If no value is provided, clients MUST use 5 as the default."
SLOW_DOWN_STEP = 5  # RFC 8628 §3.5: "the interval MUST be increased by 5 seconds"
DEFAULT_EXPIRES_IN = 600  # when the server names none (it must; this only bounds the wait)
MAX_EXPIRES_IN = 3600  # a longer promise is not believed: the wait is bounded anyway
MAX_INTERVAL = 60


@dataclass(frozen=True)
class DevicePrompt:
    """What the person needs to approve the login (never the device code itself)."""

    verification_uri: str
    user_code: str
    verification_uri_complete: str | None
    expires_in: int
    interval: int


def _bounded_int(value: Any, default: int, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return default
    try:
        number = int(float(value))
    except (TypeError, ValueError, OverflowError):
        return default
    return max(low, min(high, number))


def _is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class Flow(OAuth2Flow):
    name = "oauth2_device_code"
    grant = "device_code"
    checks_id_token = True

    # --- step 1: the device authorization request ----------------------------------------
    def device_endpoint(self, ctx: FlowContext) -> str:
        url = ctx.param("device_authorization_url")
        if not url and ctx.param("issuer"):
            url = self.discover(ctx).get("device_authorization_endpoint")
        if not isinstance(url, str) or not url:
            raise AuthError(
                "no device authorization endpoint: the profile has no device_authorization_url "
                "and discovery named none",
                step="discovery",
                hint="add device_authorization_url (or an issuer whose discovery document names "
                "device_authorization_endpoint) to the profile's [auth]; the provider may not "
                "offer the device flow",
            )
        ensure_secure(url, "device authorization endpoint")
        return url

    def request_device_code(self, ctx: FlowContext, url: str) -> tuple[str, DevicePrompt]:
        form: dict[str, str] = {}
        self.scope_params(ctx, form)
        headers = {"Accept": "application/json", "Content-Type": FORM}
        self.add_client_auth(ctx, form, headers)
        data: dict[str, str | list[str]] = dict(form)
        resources = self.resources(ctx)  # oauth2_common: RFC 8707, also on the token requests
        if resources:
            data["resource"] = resources  # repeated, one per indicator (RFC 8707)
        request = ctx.client.build_request("POST", url, data=data, headers=headers)
        response = ctx.send("device-authorization", request)
        if response.status_code != 200:
            raise token_error(self, "device-authorization", self.grant, response)
        body = require_json_object(ctx, "device-authorization", response)
        device_code = body.get("device_code")
        user_code = body.get("user_code")
        uri = body.get("verification_uri") or body.get("verification_url")  # Google's old name
        missing = [
            name
            for name, value in (
                ("device_code", device_code),
                ("user_code", user_code),
                ("verification_uri", uri),
            )
            if not isinstance(value, str) or not value
        ]
        if missing:
            raise AuthError(
                "the device authorization answer lacks " + ", ".join(missing),
                step="device-authorization",
                status=response.status_code,
                server_message=server_message(response),
                hint="is device_authorization_url really the provider's device endpoint?",
            )
        assert isinstance(device_code, str) and isinstance(user_code, str)
        assert isinstance(uri, str)
        if not _is_web_url(uri):
            raise AuthError(
                "the device authorization answer's verification_uri is not an http(s) URL "
                f"({escape_control(uri[:100])})",
                step="device-authorization",
                status=response.status_code,
                hint="the provider's answer is unusable: a person could not open it",
            )
        ctx.trace.redactor.add(device_code)
        complete = body.get("verification_uri_complete")
        if not isinstance(complete, str) or not _is_web_url(complete):
            complete = None  # no QR code then: the person types the code
        prompt = DevicePrompt(
            verification_uri=escape_control(uri),
            user_code=escape_control(user_code),
            verification_uri_complete=escape_control(complete) if complete else None,
            expires_in=_bounded_int(body.get("expires_in"), DEFAULT_EXPIRES_IN, 1, MAX_EXPIRES_IN),
            interval=_bounded_int(body.get("interval"), DEFAULT_INTERVAL, 1, MAX_INTERVAL),
        )
        return device_code, prompt

    # --- step 3: polling ------------------------------------------------------------------
    def login(self, ctx: FlowContext) -> TokenSet:
        show = ctx.show_device_code
        if show is None:
            raise AuthError(
                "this login needs a person to open a URL and enter a code, and there is no "
                "way to show them",
                step="device-authorization",
                hint="run `workbench login PROFILE` in a terminal, or log in from the TUI",
            )
        endpoints = self.endpoints(ctx)
        device_code, prompt = self.request_device_code(ctx, self.device_endpoint(ctx))
        deadline = time.monotonic() + prompt.expires_in
        ctx.trace.note(
            f"device code issued: the person opens {prompt.verification_uri} and enters "
            f"{prompt.user_code}; polling every {prompt.interval} s for up to "
            f"{prompt.expires_in} s"
        )
        show(prompt)
        interval = prompt.interval
        while True:
            wait = min(interval, max(0.0, deadline - time.monotonic()))
            if ctx.cancelled.wait(wait):
                raise AuthError("login cancelled", step="poll")
            if time.monotonic() >= deadline:
                raise AuthError(
                    f"the code {prompt.user_code} expired before it was approved "
                    f"({prompt.expires_in} s)",
                    step="poll",
                    hint="log in again and approve the new code in time",
                )
            outcome = self._poll(ctx, device_code, endpoints.token_url, prompt)
            if isinstance(outcome, TokenSet):
                ctx.trace.note("the code was approved: tokens received")
                self.check_id_token(ctx, outcome, nonce=None)  # the device flow has no nonce
                return outcome
            if outcome == "slow_down":
                interval = min(MAX_INTERVAL, interval + SLOW_DOWN_STEP)
                ctx.trace.note(f"the server asked to slow down: polling every {interval} s now")

    def _poll(
        self, ctx: FlowContext, device_code: str, token_url: str, prompt: DevicePrompt
    ) -> TokenSet | str:
        """Tokens, or "pending" / "slow_down"; the other answers raise in words."""
        form = {"grant_type": GRANT_TYPE, "device_code": device_code}
        try:
            return self.token_request(ctx, "poll", form, token_url=token_url)
        except AuthError as err:
            response_error = self._last_error(ctx)
            if err.status not in (400, 401) or response_error is None:
                raise
            if response_error == "authorization_pending":
                return "pending"
            if response_error == "slow_down":
                return "slow_down"
            if response_error == "access_denied":
                raise AuthError(
                    f"the login was denied: the person who opened {prompt.verification_uri} "
                    f"refused the code {prompt.user_code}",
                    step="poll",
                    status=err.status,
                    server_message=err.server_message,
                    hint="log in again and approve the code (check it is the one shown here)",
                ) from None
            if response_error == "expired_token":
                raise AuthError(
                    f"the code {prompt.user_code} expired before it was approved",
                    step="poll",
                    status=err.status,
                    server_message=err.server_message,
                    hint="log in again and approve the new code within "
                    f"{prompt.expires_in // 60 or 1} min",
                ) from None
            raise

    @staticmethod
    def _last_error(ctx: FlowContext) -> str | None:
        """The OAuth error code of the last poll's answer, read from the trace's record of it
        (an error body has no secret in it; the redacted copy keeps its ``error`` field)."""
        if not ctx.trace.exchanges or ctx.trace.exchanges[-1].step != "poll":
            return None
        try:
            data = json.loads(ctx.trace.exchanges[-1].response_body or "null")
        except ValueError:
            return None
        if isinstance(data, dict) and isinstance(data.get("error"), str):
            return str(data["error"])
        return None
