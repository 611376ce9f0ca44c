"""Issue 13: curl commands as browsers copy them ("Copy as cURL" in Chrome and Firefox), bash's
ANSI-C quoting ($'...'), -F/--form multipart parts, and the shared credential / profile logic
of the TUI's paste-curl and `workbench import curl`."""

from __future__ import annotations

import pytest

from workbench.core.collection.curl import (
    drop_session_credentials,
    form_parts,
    import_curl,
    matching_profiles,
    part_pairs,
    relative_url,
    same_origin_profiles,
    to_curl,
)
from workbench.core.errors import CurlError
from workbench.core.profiles import get_profile
from workbench.core.requests import BodyPart, RequestSpec

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJ1c3IiOiJkZW1vIn0.c2lnbmF0dXJlLXNlY3JldA"

# Chrome 131, DevTools > Network > Copy > Copy as cURL (bash): lower-case header names
# (HTTP/2), one option a line, a JSON body with a quote written with $'...'.
CHROME = (
    "curl 'https://api.thinger.io/v1/users/demo/devices/nodemcu' \\\n"
    "  -X 'PUT' \\\n"
    "  -H 'accept: application/json, text/plain, */*' \\\n"
    "  -H 'accept-language: en-US,en;q=0.9' \\\n"
    f"  -H 'authorization: Bearer {JWT}' \\\n"
    "  -H 'content-type: application/json' \\\n"
    "  -b 'session=abc123; theme=dark' \\\n"
    "  -H 'origin: https://console.thinger.io' \\\n"
    "  -H 'priority: u=1, i' \\\n"
    '  -H \'sec-ch-ua: "Chromium";v="131", "Not_A Brand";v="24"\' \\\n'
    "  -H 'sec-ch-ua-mobile: ?0' \\\n"
    "  -H 'user-agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36' \\\n"
    '  --data-raw $\'{"description":"Bob\\\'s board\\\\nsecond line","name":"caf\\u00e9"}\''
)

# Firefox 133, Copy Value > Copy as cURL (POSIX): one line, Title-Case names, '\'' quoting.
FIREFOX = (
    "curl 'https://api.thinger.io/v1/users/demo/devices' -X POST "
    "-H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0' "
    "-H 'Accept: application/json' -H 'Accept-Encoding: gzip, deflate, br, zstd' "
    f"-H 'Content-Type: application/json' -H 'Authorization: Bearer {JWT}' "
    "-H 'Connection: keep-alive' -H 'Sec-Fetch-Mode: cors' "
    '--data-raw \'{"device":"bob\'\\\'\'s","type":"Generic"}\''
)


def test_chrome_copy_as_curl_bash() -> None:
    result = import_curl(CHROME)
    spec = result.spec
    assert spec.method == "PUT" and spec.body_kind == "json"
    # \' -> ', \\n -> backslash n (a JSON escape), \u00e9 -> é
    assert spec.body == '{"description":"Bob\'s board\\nsecond line","name":"café"}'
    names = [k for k, _ in spec.headers]
    assert "authorization" in names and "sec-ch-ua" in names
    assert dict(spec.headers)["sec-ch-ua"] == '"Chromium";v="131", "Not_A Brand";v="24"'
    assert dict(spec.headers)["Cookie"] == "session=abc123; theme=dark"


def test_firefox_copy_as_curl_posix() -> None:
    spec = import_curl(FIREFOX).spec
    assert spec.method == "POST" and spec.body_kind == "json"
    assert spec.body == '{"device":"bob\'s","type":"Generic"}'
    assert dict(spec.headers)["Authorization"] == f"Bearer {JWT}"


@pytest.mark.parametrize(
    ("quoted", "value"),
    [
        (r"$'a\nb'", "a\nb"),
        (r"$'tab\there'", "tab\there"),
        (r"$'back\\slash'", "back\\slash"),
        (r"$'it\'s'", "it's"),
        (r"$'dq\"x'", 'dq"x'),
        (r"$'\x41\x42'", "AB"),
        (r"$'\xc3\xa9'", "é"),  # UTF-8 bytes one by one
        (r"$'\u00e9\u20ac'", "é€"),
        (r"$'\U0001F600'", "\U0001f600"),
        (r"$'\e[0m'", "\x1b[0m"),
        (r"$'\101\0'", "A\x00"),  # octal
        (r"$'x\r\v\f\a\by'", "x\r\v\f\a\by"),
        (r"$'\cA'", "\x01"),
        (r"$'\q'", "\\q"),  # unknown escapes stay as they are (bash)
        (r"x$'y'z", "xyz"),  # glued to other words
        (r"\$'no'", "$no"),  # an escaped $ is a $
        ("\"$'in double'\"", "$'in double'"),  # not special inside double quotes
        (r"""\"$'escaped'\"""", '"escaped"'),  # escaped double quotes quote nothing
        (r"'$'\''x'", "$'x"),  # nor inside single quotes
    ],
)
def test_ansi_c_quoting(quoted: str, value: str) -> None:
    spec = import_curl(f"curl https://h.example/ -H X-V:{quoted}").spec
    assert dict(spec.headers)["X-V"] == value


def test_ansi_c_errors_and_notes() -> None:
    with pytest.raises(CurlError, match="not closed"):
        import_curl(r"curl https://h.example/ -H $'X-A: b")
    with pytest.raises(CurlError, match="not a character"):
        import_curl(r"curl https://h.example/ -H $'X-A: \ud800'")
    result = import_curl(r"curl https://h.example/ --data-raw $'\xff\xfe'")
    assert result.spec.body == "\ufffd\ufffd"
    assert any("not UTF-8" in n for n in result.notes)


def test_ansi_c_across_continuation_lines() -> None:
    text = "curl https://h.example/x \\\n  -H $'X-A: 1\\'2' \\\n  --data-raw $'line1\\nline2'"
    spec = import_curl(text).spec
    assert dict(spec.headers)["X-A"] == "1'2"
    assert spec.body == "line1\nline2"


# --- -F / --form --------------------------------------------------------------------------


def test_form_parts() -> None:
    spec = import_curl(
        "curl https://h.example/up "
        "-F 'firmware=@build/fw.bin;type=application/octet-stream;filename=\"fw 1;2.bin\"' "
        "-F version=1.2.3 --form-string 'note=@not a file;really' "
        '-F \'meta="{\\"a\\": 1}";type=application/json\' '
        "-H 'Content-Type: multipart/form-data'"
    ).spec
    assert spec.method == "POST" and spec.body_kind == "multipart"
    assert spec.parts == [
        BodyPart(
            "firmware",
            file="build/fw.bin",
            content_type="application/octet-stream",
            filename="fw 1;2.bin",
        ),
        BodyPart("version", value="1.2.3"),
        BodyPart("note", value="@not a file;really"),
        BodyPart("meta", value='{"a": 1}', content_type="application/json"),
    ]
    assert spec.headers == []  # httpx writes the Content-Type with its boundary


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("curl -F novalue https://h", "is not a form part"),
        ("curl -F 'a=<file.txt' https://h", "reads a field's text from a file"),
        ("curl -F 'a=@' https://h", "names no file"),
        ("curl -F 'a=@f;size=3' https://h", "unknown form parameter"),
        ("curl -F a=1 --data b=2 https://h", "cannot be combined"),
        ("curl -G -F a=1 https://h", "cannot be combined"),
    ],
)
def test_form_errors(command: str, words: str) -> None:
    with pytest.raises(CurlError, match=words):
        import_curl(command)


def test_form_headers_parameter_is_ignored_with_a_note() -> None:
    result = import_curl("curl -F 'a=@f.bin;headers=\"X-A: 1\"' https://h")
    assert result.spec.parts == [BodyPart("a", file="f.bin")]
    assert any(";headers= is ignored" in n for n in result.notes)


def test_multipart_round_trips_through_to_curl() -> None:
    spec = RequestSpec(
        method="POST",
        url="https://h.example/up",
        body_kind="multipart",
        parts=[
            BodyPart("fw", file="dir/a;b.bin", content_type="application/octet-stream"),
            BodyPart("fw2", file="x.bin", filename="renamed.bin"),
            BodyPart("v", value="1.2"),
            BodyPart("odd", value='@x;y"z'),
            BodyPart("typed", value='say "hi"; bye', content_type="text/plain"),
        ],
    )
    text = to_curl(spec, with_secrets=True)
    assert "--form" in text
    assert import_curl(text).spec == spec


def test_multipart_secret_fields_are_shell_variables_in_exports() -> None:
    spec = RequestSpec(
        method="POST",
        url="https://h.example/up",
        body_kind="multipart",
        parts=[BodyPart("password", value="hunter2-hunter2")],
    )
    text = to_curl(spec)
    assert "hunter2" not in text and "$PASSWORD" in text


def test_composer_lines_round_trip() -> None:
    parts = [
        BodyPart("fw", file="a b.bin", content_type="application/octet-stream", filename="x"),
        BodyPart("v", value="1;2"),
        BodyPart("t", value="x", content_type="text/plain"),
    ]
    assert form_parts(part_pairs(parts)) == parts
    # a line that is not -F syntax is plain text
    assert form_parts([("a", "@f;bogus=1")]) == [BodyPart("a", value="@f;bogus=1")]


# --- the shared credential logic, profiles --------------------------------------------------


def test_drop_session_credentials_every_casing_every_time() -> None:
    spec = RequestSpec(
        url="https://api.thinger.io/v1/x",
        headers=[
            ("authorization", f"Bearer {JWT}"),
            ("Accept", "application/json"),
            ("AUTHORIZATION", "Bearer again"),
            ("Cookie", "a=b"),
            ("Proxy-Authorization", "Basic eDp5"),
        ],
    )
    notes = drop_session_credentials(spec, get_profile("thinger"))
    assert spec.headers == [("Accept", "application/json")]
    assert notes == [
        "dropped authorization, AUTHORIZATION, Cookie, Proxy-Authorization: "
        "the session of 'thinger' signs the request itself"
    ]


def test_drop_session_credentials_without_a_session_keeps_them() -> None:
    spec = RequestSpec(url="https://h.example/", headers=[("Authorization", "Bearer x")])
    assert drop_session_credentials(spec, None) == []
    assert spec.headers == [("Authorization", "Bearer x")]


def test_a_static_token_query_parameter_is_dropped(tmp_path) -> None:
    (tmp_path / "q.toml").write_text(
        'version = 1\nplatform = "thinger"\n[urls]\napi = "https://q.example"\n'
        '[auth]\nflow = "static_token"\ntoken = { env = "QTOKEN" }\nplacement = "query"\n'
        'query_param = "authorization"\n'
    )
    profile = get_profile("q", tmp_path)
    spec = import_curl("curl 'https://q.example/v1/d?authorization=abc&count=2'").spec
    notes = drop_session_credentials(spec, profile)
    assert spec.params == [("count", "2")]
    assert "dropped the query parameter 'authorization'" in notes[0]


def test_matching_profiles_and_relative_urls(monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_DEMO_URL", "http://127.0.0.1:9999")
    names = ["demo-thinger", "demo-thinger-device", "demo-plgd", "demo-iotconnect", "thinger"]
    profiles = [get_profile(n) for n in names]
    url = "http://127.0.0.1:9999/thinger/v1/users/demo/devices"
    found = matching_profiles(url, profiles)
    assert [m.profile.name for m in found] == ["demo-thinger", "demo-thinger-device"]
    assert relative_url(url, found[0]) == "/v1/users/demo/devices"
    # another base of the profile: written with {{urls.NAME}}
    iotc = get_profile("demo-iotconnect")
    second = list(iotc.urls)[1]
    url2 = iotc.urls[second].rstrip("/") + "/Device?x=1"
    (match,) = matching_profiles(url2, [iotc])
    assert match.url_name == second
    assert relative_url(url2, match) == "{{urls." + second + "}}/Device?x=1"
    # a path that only shares a prefix is not under the base
    assert matching_profiles("http://127.0.0.1:9999/thingerX/v1", profiles) == []
    # the same origin, another path: same_origin_profiles names it
    assert "demo-thinger" in [
        p.name for p in same_origin_profiles("http://127.0.0.1:9999/other", profiles)
    ]
    assert matching_profiles("not a url", profiles) == []
