"""Issue 11: redaction by value, whatever the formatting or truncation (hypothesis).

A token answer of any size, indentation, key spelling and nesting, whole or cut off by
the server, goes through the trace (`AuthTrace.body`, what `login --trace` and the TUI's
auth timeline print): no secret, and no piece of one at the truncation edge, survives.
The run-report and CLI tests are in tests/cli/test_redaction_*.py.
"""

from __future__ import annotations

import json
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.core.auth.base import MAX_TRACE_BODY, AuthTrace

TOKEN_KEYS = [
    "access_token",
    "refresh_token",
    "id_token",
    "accessToken",
    "RefreshToken",
    "IdToken",
    "ACCESS_TOKEN",
    "token",
    "client_secret",
    "password",
]
SECRET = st.text(string.ascii_letters + string.digits + "-_.", min_size=12, max_size=300).filter(
    lambda v: any(c.isdigit() for c in v) and v.strip("-_.")
)


@st.composite
def token_answers(draw: st.DrawFn) -> tuple[str, list[str]]:
    keys = draw(st.lists(st.sampled_from(TOKEN_KEYS), min_size=1, max_size=4, unique=True))
    secrets = [draw(SECRET) for _ in keys]
    doc: dict[str, object] = {"token_type": "Bearer", "expires_in": 3600}
    # padding before and between the tokens, so the 4,096-character cut falls anywhere
    doc["claims"] = ["x" * draw(st.integers(0, 40)) for _ in range(draw(st.integers(0, 200)))]
    doc.update(dict(zip(keys, secrets, strict=True)))
    body: object = doc
    for _ in range(draw(st.integers(0, 2))):
        body = {draw(st.sampled_from(["AuthenticationResult", "data", "result"])): body}
    text = json.dumps(body, indent=draw(st.sampled_from([None, 1, 4])))
    if draw(st.booleans()):  # the server's answer itself was cut off
        text = text[: draw(st.integers(len(text) // 2, len(text)))]
    return text, secrets


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(token_answers())
def test_a_token_answer_is_redacted_whatever_its_size_shape_or_cut(
    answer: tuple[str, list[str]],
) -> None:
    text, secrets = answer
    trace = AuthTrace()
    shown = trace.body(text)
    assert len(shown) <= MAX_TRACE_BODY + 40
    for secret in secrets:
        if secret not in text:  # cut off by the server: what is left of it must not show
            start = text.rfind('"') + 1
            secret = text[start:] if secret.startswith(text[start:]) else ""
            if len(secret) < 8:
                continue
        assert secret not in shown
        # no piece of it either (where the trace was cut, or anywhere)
        assert not any(secret[i : i + 12] in shown for i in range(len(secret) - 12)), shown[-200:]
