"""capture_sent: the final request, secrets masked by value (a pure function)."""

from __future__ import annotations

import base64

import httpx

from workbench.core.history.sent import Masker, SentRequest, Timings, capture_sent

TOKEN = "opaque" + "Q7w8E9r0" * 100  # 806 chars


def test_bearer_shown_as_present_with_scheme_and_length() -> None:
    request = httpx.Request("GET", "https://x.test/a", headers={"Authorization": f"Bearer {TOKEN}"})
    sent = capture_sent(request, [TOKEN])
    assert dict(sent.headers)["authorization"] == f"•••• (Bearer, {len(TOKEN)} chars)"
    assert TOKEN not in repr(sent)


def test_masked_by_value_wherever_it_is() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    request = httpx.Request(
        "POST",
        f"https://user:pw-secret-1@x.test/p/{TOKEN}?authorization={TOKEN}&page=2",
        headers={
            "X-Echo": f"prefix {TOKEN} suffix",
            "X-B64": base64.b64encode(TOKEN.encode()).decode(),
            "Accept": "application/json",
        },
        content=f'{{"t": "{TOKEN}", "j": "{jwt}"}}'.encode(),
    )
    sent = capture_sent(request, [TOKEN], timings=Timings(headers_ms=1.0, total_ms=2.0))
    text = "\n".join(sent.lines())
    assert TOKEN not in text and jwt not in text and "pw-secret-1" not in text
    assert base64.b64encode(TOKEN.encode()).decode() not in text
    assert ("page", "2") in sent.query and dict(sent.headers)["accept"] == "application/json"
    assert "headers after 1.0 ms" in text
    assert SentRequest.from_json(sent.to_json()).lines() == sent.lines()


def test_a_credential_header_is_masked_even_when_its_value_is_unknown() -> None:
    request = httpx.Request("GET", "https://x.test/", headers={"X-Api-Key": "typed-by-hand-123"})
    assert dict(capture_sent(request).headers)["x-api-key"] == "•••• (17 chars)"


def test_the_masker_learns_credential_fields() -> None:
    masker = Masker()
    masker.learn('{"refresh_token": "rt-abcdef-123456"}')
    assert "rt-abcdef-123456" not in masker("got rt-abcdef-123456")
    assert b"rt-abcdef-123456" not in masker.bytes(b"\xff rt-abcdef-123456")


def test_a_url_header_has_its_credential_parameters_masked() -> None:
    masker = Masker()
    shown = masker.header("Location", "https://app.test/cb?code=Sp1xAuthCode9&state=s1")
    assert "Sp1xAuthCode9" not in shown and "state=s1" in shown


def test_learning_looks_at_escaped_names_and_skips_plain_listings() -> None:
    masker = Masker()
    masker.learn('{"pass\\u0077ord": "Escaped-Secret-77"}')
    assert "Escaped-Secret-77" not in masker("x Escaped-Secret-77")
    plain = Masker()
    plain.learn('[{"k": 1, "v": "Not-A-Secret-88"}]')
    assert plain("Not-A-Secret-88") == "Not-A-Secret-88"
