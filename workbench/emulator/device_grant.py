"""The device authorization grant (RFC 8628) as the emulated clouds serve it (plgd, thinger).

One :class:`DeviceGrants` per platform keeps the pending codes:

- :meth:`DeviceGrants.start` answers the device authorization request: a ``device_code``
  (secret, 32 random bytes), a ``user_code`` of 8 characters from RFC 8628 §6.1's base-20
  alphabet (no vowels, so no words) shown as ``XXXX-XXXX``, the ``verification_uri`` (the
  approval page), ``verification_uri_complete`` (the page with ``?user_code=`` pre-filled),
  ``expires_in`` (600 s) and ``interval`` (5 s);
- :meth:`DeviceGrants.page` / :meth:`DeviceGrants.decide` are the approval page: an HTML form
  to enter the code (the dash and case do not matter), sign in as the demo user and approve,
  or deny (no password needed to deny);
- :meth:`DeviceGrants.poll` is the token endpoint's side: ``authorization_pending`` until
  the person decides, ``slow_down`` when polled sooner than the interval (and the code's
  interval grows by 5 s, as §3.5 says), ``access_denied``, ``expired_token``; an approved
  code is good for ONE token answer.

The admin API's platform switches tune it for tests (POST /_emulator/faults/{platform}):
``device_code_ttl`` (seconds; 0 = 600), ``device_code_interval`` (seconds; 0 = 5) and
``device_slow_down`` (answer the first N polls of each code with ``slow_down``).
"""

from __future__ import annotations

import html
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.responses import HTMLResponse, Response

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"  # RFC 8628 §6.1
CODE_TTL = 600
INTERVAL = 5
SLOW_DOWN_STEP = 5
MAX_PENDING = 1000


def normalize_user_code(text: str) -> str:
    """What the person typed, compared without dashes, spaces or case (RFC 8628 §6.1)."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def new_user_code() -> str:
    raw = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))
    return raw[:4] + "-" + raw[4:]


@dataclass
class PendingCode:
    client_id: str
    user_code: str
    scope: str
    audience: str
    resources: tuple[str, ...]
    expires: float  # time.monotonic()
    interval: float
    slow_downs_left: int
    state: str = "pending"  # pending | approved | denied | used
    subject: str = ""
    last_poll: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def demo_login_html(login: tuple[str, str] | None) -> str:
    """The demo cloud's sign-in, on its login pages (a real provider never shows one)."""
    if login is None:
        return ""
    user, password = (html.escape(part) for part in login)
    return (
        f'<p class="demo" id="demo-login">Demo cloud: sign in as <code>{user}</code> with the '
        f"password <code>{password}</code>.</p>"
    )


class DeviceGrants:
    """The pending device codes of one platform and its approval page.

    ``check_user(username, password)`` returns the subject the tokens are for, or None;
    ``demo_login`` (user, password) is shown on the page: this is the demo cloud."""

    def __init__(
        self,
        title: str,
        check_user: Callable[[str, str], str | None],
        demo_login: tuple[str, str] | None = None,
    ) -> None:
        self.title = title
        self.check_user = check_user
        self.demo_login = demo_login
        self.codes: dict[str, PendingCode] = {}  # device_code -> pending
        self.lock = threading.Lock()

    # --------------------------------------------------------------- the device request
    def start(
        self,
        *,
        client_id: str,
        scope: str,
        audience: str,
        resources: tuple[str, ...],
        verification_uri: str,
        ttl: int = 0,
        interval: int = 0,
        slow_downs: int = 0,
    ) -> dict[str, Any]:
        ttl = ttl if ttl > 0 else CODE_TTL
        interval = interval if interval > 0 else INTERVAL
        device_code = secrets.token_urlsafe(32)
        user_code = new_user_code()
        now = time.monotonic()
        with self.lock:
            for old in [c for c, p in self.codes.items() if p.expires < now - 60]:
                del self.codes[old]
            if len(self.codes) >= MAX_PENDING:
                oldest = min(self.codes, key=lambda c: self.codes[c].expires)
                del self.codes[oldest]
            self.codes[device_code] = PendingCode(
                client_id=client_id,
                user_code=user_code,
                scope=scope,
                audience=audience,
                resources=resources,
                expires=now + ttl,
                interval=float(interval),
                slow_downs_left=max(0, slow_downs),
            )
        return {
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": verification_uri,
            "verification_uri_complete": verification_uri
            + "?"
            + urlencode({"user_code": user_code}),
            "expires_in": ttl,
            "interval": interval,
        }

    # --------------------------------------------------------------- the token endpoint
    def poll(self, device_code: str, client_id: str) -> tuple[str, PendingCode | None]:
        """("ok", code) once approved (then used up), else an RFC 8628 error code:
        authorization_pending, slow_down, access_denied, expired_token, invalid_grant."""
        now = time.monotonic()
        with self.lock:
            pending = self.codes.get(device_code)
            if pending is None or pending.client_id != client_id:
                return "invalid_grant", None
            if pending.state == "used":
                return "invalid_grant", None
            if now >= pending.expires:
                return "expired_token", None
            if pending.state == "denied":
                pending.state = "used"
                return "access_denied", None
            too_soon = (
                pending.last_poll is not None and now - pending.last_poll < pending.interval - 0.25
            )
            pending.last_poll = now
            if pending.slow_downs_left > 0 or too_soon:
                pending.slow_downs_left = max(0, pending.slow_downs_left - 1)
                pending.interval += SLOW_DOWN_STEP
                return "slow_down", None
            if pending.state == "approved":
                pending.state = "used"
                return "ok", pending
            return "authorization_pending", None

    @staticmethod
    def describe_error(code: str) -> str:
        return {
            "authorization_pending": "The authorization request is still pending",
            "slow_down": "Polling too fast: wait the interval (now 5 s longer) between polls",
            "access_denied": "The end-user denied the authorization request",
            "expired_token": "The device code has expired",
            "invalid_grant": "The device code is invalid or was already used",
        }.get(code, code)

    # --------------------------------------------------------------- the approval page
    def _find(self, user_code: str) -> PendingCode | None:
        wanted = normalize_user_code(user_code)
        now = time.monotonic()
        for pending in self.codes.values():
            if normalize_user_code(pending.user_code) == wanted and pending.expires > now:
                return pending
        return None

    def page(
        self, action: str, user_code: str = "", message: str = "", status: int = 200
    ) -> Response:
        """The approval form (``user_code`` pre-filled from verification_uri_complete)."""
        note = f'<p class="message" role="alert">{html.escape(message)}</p>' if message else ""
        demo = demo_login_html(self.demo_login)
        body = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(self.title)}: connect a device</title>
<style>body {{ font-family: system-ui, sans-serif; max-width: 30rem; margin: 3rem auto }}
label {{ display: block; margin-top: 1rem }} input {{ font-size: 1.2rem }}
#user_code {{ letter-spacing: .2em; text-transform: uppercase }}</style></head>
<body><h1>Connect a device</h1>
<p>Enter the code shown by the IoT Workbench login, sign in, then approve or deny it.</p>
{note}
<form method="post" action="{html.escape(action)}">
  <label>Code <input id="user_code" name="user_code" value="{html.escape(user_code)}"
    autocomplete="off" placeholder="XXXX-XXXX" required></label>
  <label>Username <input name="username" autocomplete="username"></label>
  <label>Password <input name="password" type="password" autocomplete="current-password"></label>
  <p><button name="action" value="approve" type="submit">Approve</button>
     <button name="action" value="deny" type="submit">Deny</button></p>
</form>
{demo}</body></html>"""
        return HTMLResponse(body, status, headers={"Cache-Control": "no-store"})

    def decide(self, action: str, form: dict[str, str]) -> Response:
        """The form's answer: approve (with the demo user's credentials) or deny."""
        user_code = form.get("user_code", "")
        choice = form.get("action", "approve").lower()
        with self.lock:
            pending = self._find(user_code)
            if pending is None or pending.state != "pending":
                return self.page(
                    action, user_code, "That code is unknown, expired or already used.", 400
                )
            if choice == "deny":
                pending.state = "denied"
                return self._done("Denied. The device will not be connected.")
            subject = self.check_user(form.get("username", ""), form.get("password", ""))
            if subject is None:
                return self.page(action, user_code, "Wrong username or password.", 401)
            pending.state = "approved"
            pending.subject = subject
        return self._done("Approved. You can return to your device.")

    def _done(self, text: str) -> Response:
        page = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(self.title)}</title></head>"
            '<body style="font-family: system-ui, sans-serif; max-width: 30rem; margin: 3rem auto">'
            f'<h1 id="outcome">{html.escape(text)}</h1></body></html>'
        )
        return HTMLResponse(page, 200, headers={"Cache-Control": "no-store"})
