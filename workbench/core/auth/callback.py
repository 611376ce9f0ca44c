"""The authorization response (RFC 6749 §4.1.2), wherever it arrives: at the loopback
listener (loopback.py) or pasted back by the person (the redirect URL copied from the
browser's address bar, for a login over SSH or with a redirect URI this machine cannot
receive).

One :class:`CallbackWaiter` per login takes the FIRST response from either side and checks it:

1. ``state`` must match (constant time; single use: a mismatch ends the login);
2. RFC 9207: when the provider advertises ``authorization_response_iss_parameter_supported``
   the response must carry ``iss`` equal to the issuer; an ``iss`` that is present must match
   even when not advertised (mix-up defence);
3. ``error=...`` is explained in words (ERROR_WORDS / ERROR_HINTS);
4. else the ``code`` is the result.

:func:`parse_pasted` reads what a person pastes: a full URL, ``?query``, a bare query string
or a ``#fragment``, with whitespace and line breaks (a URL wrapped by a terminal) removed.
Text that is no authorization response at all (empty, the authorization URL itself, another
page) is not consumed: :meth:`CallbackWaiter.paste` returns words and the person tries again.
"""

from __future__ import annotations

import html
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from workbench.core.errors import CallbackError
from workbench.core.text import escape_keep_newlines

ERROR_WORDS = {
    "access_denied": "you (or the provider) declined the login",
    "invalid_request": "the provider found the authorization request malformed",
    "unauthorized_client": "this client may not use the authorization code flow",
    "unsupported_response_type": "the provider does not issue authorization codes to this client",
    "invalid_scope": "the provider refused the requested scope",
    "server_error": "the provider had an internal error",
    "temporarily_unavailable": "the provider is temporarily unavailable",
    "login_required": "the provider needs you to log in interactively",
    "consent_required": "the provider needs your consent",
    "interaction_required": "the provider needs you to interact with the login page",
}
ERROR_HINTS = {
    "access_denied": "run the login again and choose Allow",
    "invalid_scope": "check `scope` in the profile",
    "unauthorized_client": "check the client's settings at the provider",
    "invalid_request": "check client_id, redirect_uri and scope in the profile",
    "server_error": "try again later",
    "temporarily_unavailable": "try again later",
}
RESPONSE_KEYS = ("code", "error", "state", "iss")


@dataclass
class CallbackResult:
    code: str
    state: str
    params: dict[str, str]


@dataclass(frozen=True)
class PasteOffer:
    """What a user interface needs to offer paste-back for one login.

    ``submit(text)`` hands the pasted text to the login: None when it was taken (the login
    goes on, or fails in words), else words saying why it is not a redirect URL (ask again).
    ``loopback_port`` is the port the loopback listener waits on (None: no listener, the
    redirect URI is not on this machine, so pasting is the only way)."""

    authorization_url: str
    redirect_uri: str
    loopback_port: int | None
    submit: Callable[[str], str | None]
    give_up: Callable[[str], None]


def parse_pasted(text: str) -> dict[str, str]:
    """The parameters of a pasted redirect URL (full URL, ``?query``, bare query string or
    ``#fragment``); whitespace anywhere in it is dropped. First value of each name wins."""
    cleaned = "".join(text.split())
    if cleaned.startswith(("'", '"', "<")) and len(cleaned) > 1:
        cleaned = cleaned[1:-1] if cleaned[-1] in "'\">" else cleaned[1:]
    query = cleaned
    if "://" in cleaned:
        parts = urlsplit(cleaned)
        query = parts.query
        if parts.fragment and not any(k in dict(parse_qsl(query)) for k in ("code", "error")):
            query = parts.fragment  # response_mode=fragment
    else:
        query = cleaned.lstrip("?#")
    params: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        params.setdefault(key, value)
    return params


def pasted_problem(text: str, params: dict[str, str], redirect_uri: str) -> str | None:
    """Words when the pasted text is no authorization response for this login, else None."""
    if not "".join(text.split()):
        return "nothing was pasted"
    if "response_type" in params or "code_challenge" in params:
        return (
            "that is the authorization URL itself: open it in a browser, log in, then paste "
            "the address the browser ends on"
        )
    if not any(k in params for k in ("code", "error")):
        return (
            "that is not the redirect URL: after logging in, copy the whole address from the "
            f"browser's address bar (it starts with {redirect_uri}?)"
        )
    cleaned = "".join(text.split())
    if "://" in cleaned:
        got, want = urlsplit(cleaned), urlsplit(redirect_uri)
        same = (
            got.scheme.lower() == want.scheme.lower()
            and (got.hostname or "").lower() == (want.hostname or "").lower()
            and got.path.rstrip("/") == want.path.rstrip("/")
        )
        loopback = (want.hostname or "") in ("127.0.0.1", "localhost") and (got.hostname or "") in (
            "127.0.0.1",
            "localhost",
        )
        if not same and not (loopback and got.path.rstrip("/") == want.path.rstrip("/")):
            return (
                f"that URL is not this login's redirect URI ({redirect_uri}): paste the address "
                "the browser ended on after the login"
            )
    return None


def check_response(
    params: dict[str, str], *, state: str, issuer: str | None, iss_required: bool
) -> CallbackResult:
    """The code of an authorization response, or CallbackError in words (module docstring)."""
    got_state = params.get("state", "")
    if not secrets.compare_digest(got_state.encode(), state.encode()):
        raise CallbackError(
            "the callback's state does not match the login that was started (possible forged "
            "or stale callback)",
            step="callback",
            hint="start the login again and use the redirect URL of THAT login; if this "
            "repeats, something else is sending callbacks",
        )
    iss = params.get("iss")
    if iss is None and iss_required:
        raise CallbackError(
            "the callback carries no `iss` although the provider says it always sends one "
            "(RFC 9207): it may come from another provider (mix-up attack)",
            step="callback",
            hint="start the login again; if this repeats, check that the profile's issuer is "
            "the provider you logged in at",
        )
    if iss is not None and issuer is not None and iss != issuer:
        raise CallbackError(
            f"the callback comes from the issuer '{escape_keep_newlines(iss)}', not from "
            f"'{escape_keep_newlines(issuer)}' (RFC 9207 mix-up defence): refused",
            step="callback",
            hint="log in at the provider the profile names; if this repeats, another provider "
            "is answering for it",
        )
    if "error" in params:
        code = escape_keep_newlines(params["error"])
        desc = escape_keep_newlines(params.get("error_description", "")) or None
        words = ERROR_WORDS.get(params["error"], "the provider refused the login")
        raise CallbackError(
            f"the provider answered error={code}: {words}",
            step="callback",
            server_message=desc,
            hint=ERROR_HINTS.get(params["error"], "check the profile and try again"),
        )
    code = params.get("code", "")
    if not code:
        raise CallbackError(
            "the callback carried neither a code nor an error",
            step="callback",
            hint="the provider's redirect is malformed; try again",
        )
    return CallbackResult(code=code, state=got_state, params=params)


class CallbackWaiter:
    """Takes the first authorization response of one login (loopback or pasted) and checks it."""

    def __init__(self, state: str, *, issuer: str | None = None, iss_required: bool = False):
        if len(state) < 22:  # 22 base64url chars ~ 128 bits
            raise ValueError("state must carry at least 128 bits")
        self.state = state
        self.issuer = issuer
        self.iss_required = iss_required
        self.source: str | None = None  # "loopback" or "paste"
        self._result: CallbackResult | None = None
        self._error: CallbackError | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def receive(self, params: dict[str, str], source: str = "loopback") -> tuple[int, str, str]:
        """Take one response; (HTTP status, page title, page body HTML) for the browser."""
        with self._lock:
            if self._done.is_set():
                return (
                    400,
                    "Already used",
                    "This login callback was already used. You can close this tab.",
                )
            self.source = source
            self._done.set()
            try:
                self._result = check_response(
                    params, state=self.state, issuer=self.issuer, iss_required=self.iss_required
                )
            except CallbackError as err:
                self._error = err
                got = params.get("state", "").encode()
                if not secrets.compare_digest(got, self.state.encode()):
                    return (
                        400,
                        "Login failed",
                        "The state parameter did not match. Start the login again.",
                    )
                if err.message.startswith("the provider answered error="):
                    words = ERROR_WORDS.get(params["error"], "the provider refused the login")
                    code = escape_keep_newlines(params["error"])
                    return (
                        400,
                        "Login not completed",
                        html.escape(f"{words} ({code}). You can close this tab."),
                    )
                return 400, "Login failed", html.escape(err.message)
            return 200, "Logged in", "IoT Workbench received the login. You can close this tab."

    def paste(self, text: str, redirect_uri: str) -> str | None:
        """Take a pasted redirect URL: None when taken, else words to ask again."""
        if self._done.is_set():
            return None
        params = parse_pasted(text)
        problem = pasted_problem(text, params, redirect_uri)
        if problem is not None:
            return problem
        self.receive({k: v for k, v in params.items()}, source="paste")
        return None

    def give_up(self, error: CallbackError) -> None:
        """End the wait with `error` (no response can come any more)."""
        with self._lock:
            if not self._done.is_set():
                self._error = error
                self._done.set()

    def wait(self, timeout: float, cancelled: threading.Event | None = None) -> CallbackResult:
        """The response's code; CallbackError on error=, state / iss mismatch, timeout or cancel."""
        deadline = time.monotonic() + timeout
        while not self._done.wait(0.05):
            if cancelled is not None and cancelled.is_set():
                raise CallbackError(
                    "login cancelled while waiting for the browser", step="callback"
                )
            if time.monotonic() >= deadline:
                raise CallbackError(
                    f"no callback from the browser within {timeout:g} s",
                    step="callback",
                    hint="finish the login in the browser sooner, or raise `timeout` in the profile",
                )
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result
