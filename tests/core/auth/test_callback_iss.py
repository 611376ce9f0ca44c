"""RFC 9207 (the `iss` of an authorization response) at the loopback listener, against the
emulated plgd realm (it advertises `authorization_response_iss_parameter_supported` and
sends `iss`, like Keycloak since 22), and the rules of callback.py's CallbackWaiter."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from tests.authkit import browser
from workbench.core.auth.callback import CallbackWaiter
from workbench.core.errors import CallbackError
from workbench.core.profiles import get_profile
from workbench.core.session import Session

STATE = "s" * 43
ISSUER = "https://idp.example/realms/one"


def retouch(url: str, **changes: str | None) -> str:
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query))
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return parts._replace(query=urlencode(params)).geturl()


def test_the_realm_sends_iss_and_the_login_checks_it(demo_env) -> None:
    open_browser, run = browser()
    session = Session(get_profile("demo-plgd"))
    session.login(open_browser=open_browser)
    assert run.callback_status == 200
    sent = dict(parse_qsl(urlsplit(run.callback_url).query))
    assert sent["iss"] == f"{demo_env.base_url}/plgd/auth/realms/shared"
    notes = [n for t in session.traces for n in t.notes]
    assert any("state matched, iss matched" in n for n in notes)


@pytest.mark.parametrize(
    ("iss", "words"),
    [(None, "carries no `iss`"), ("https://evil.example/realms/shared", "RFC 9207")],
    ids=["missing", "another-issuer"],
)
def test_a_loopback_callback_with_a_bad_iss_is_refused(demo_env, iss, words) -> None:
    open_browser, run = browser(tamper_callback=lambda url: retouch(url, iss=iss))
    session = Session(get_profile("demo-plgd"))
    with pytest.raises(CallbackError) as info:
        session.login(open_browser=open_browser)
    assert words in info.value.message and info.value.step == "callback"
    run.done.wait(5)
    assert run.callback_status == 400 and "Login failed" in run.callback_page
    assert not any(ex.step == "code-exchange" for t in session.traces for ex in t.exchanges)


def test_waiter_rules() -> None:
    ok = {"code": "c", "state": STATE}
    # not advertised: a missing iss is fine, a present one must match
    assert CallbackWaiter(STATE, issuer=ISSUER).receive(ok)[0] == 200
    assert CallbackWaiter(STATE, issuer=ISSUER).receive({**ok, "iss": ISSUER})[0] == 200
    w = CallbackWaiter(STATE, issuer=ISSUER)
    assert w.receive({**ok, "iss": "https://other.example"})[0] == 400
    with pytest.raises(CallbackError, match="RFC 9207"):
        w.wait(1)
    # advertised: required
    w = CallbackWaiter(STATE, issuer=ISSUER, iss_required=True)
    w.receive(ok)
    with pytest.raises(CallbackError, match="carries no `iss`"):
        w.wait(1)
    # an error response is checked for iss as well, then explained
    w = CallbackWaiter(STATE, issuer=ISSUER, iss_required=True)
    w.receive({"error": "access_denied", "state": STATE, "iss": ISSUER})
    with pytest.raises(CallbackError, match="declined the login"):
        w.wait(1)
    # first response wins: a later one (a paste after the loopback) is not taken
    w = CallbackWaiter(STATE)
    w.receive(ok)
    assert w.paste(f"?code=other&state={STATE}", "http://127.0.0.1/callback") is None
    assert w.wait(1).code == "c" and w.source == "loopback"
