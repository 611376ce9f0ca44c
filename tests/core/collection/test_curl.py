"""curl import/export: every curl example of the seed documents, options, errors, placeholders,
real shell quoting, and the round-trip import(export(spec)) == spec (hypothesis)."""

from __future__ import annotations

import base64
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.core.collection.curl import import_curl, parse_curl, to_curl
from workbench.core.errors import CurlError
from workbench.core.requests import METHODS, RequestSpec

# The seed documents sit next to the checkout: <repo>/../shared/seeds.
SEEDS = Path(__file__).resolve().parents[3].parent / "shared" / "seeds"  # <repo>/../shared/seeds

# The curl examples of the seed documents, as printed there (web-extracted text: the
# Thinger ones lost their newlines, leaving "\-H"; IoTConnect's lost its backslashes and
# its third line is cut after "Bearer", so the example is its first two lines).
SEED_COMMANDS: dict[str, list[str]] = {
    "000_55528f2240a5a838.txt": [
        'curl -X GET "[ENDPOINTS]/api/v1.1/Device"\n-H "accept: text/plain"',
    ],
    "002_7cfd16874af9307e.txt": [
        "curl --request POST \\\n--url 'https://auth.plgd.cloud/oauth/token' \\\n"
        "--header 'content-type: application/x-www-form-urlencoded' \\\n--data grant_type=authorization_code \\\n"
        "--data 'client_id=9XjK2mCf2J0or4Ko0ow7wCmZeDTjC1mW' \\\n"
        "--data client_secret=UTeeIsSugTuDNbn4QMdBaNLDnMiBQzQaa6elm4SDuWOdZUou-aH00EPSbBhgppFD \\\n"
        "--data code={YOUR_AUTHORIZATION_CODE} \\\n--data 'redirect_uri=http://localhost:8080/callback'",
        "curl --request GET \\\n--url https://openapi.try.plgd.cloud/api/v1/devices \\\n"
        "--header 'authorization: Bearer eyJ...lojg' \\\n--header 'content-type: application/json' \\\n"
        "--header 'accept: application/json'",
        "curl --request POST \\\n--url 'https://auth.plgd.cloud/oauth/token' \\\n"
        "--header 'content-type: application/x-www-form-urlencoded' \\\n--data grant_type=refresh_token \\\n"
        "--data 'client_id=9XjK2mCf2J0or4Ko0ow7wCmZeDTjC1mW' \\\n--data refresh_token={YOUR_REFRESH_TOKEN}",
    ],
    "003_61435e6f314eb671.txt": [
        "curl --location --request POST 'https://iotspot-m2mauth-prod.auth.eu-central-1.amazoncognito.com/oauth2/token' \\\n"
        "--header 'Authorization: Basic XXXX' \\\n--header 'Content-Type: application/x-www-form-urlencoded' \\\n"
        "--data-urlencode 'client_id=[Client_id]' \\\n--data-urlencode 'scope=iotspot/openapi' \\\n"
        "--data-urlencode 'grant_type=client_credentials'",
    ],
    "004_5cc74bafa53a425e.txt": [
        'curl \\-H "Content-Type: application/json;charset=UTF-8" \\-H "Authorization: Bearer '
        'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9..." \\-H "Accept: application/json, text/plain, */*" \\-X POST '
        f"\\-d '{body}' \\https://api.thinger.io/v2/users/alvarolb/devices/nodemcu/{res}"
        for body, res in [
            ('{"in":true}', "relay"),
            ('{"in":{"r":0,"g":255,"b":0}}', "rgb"),
            ('{"in":"New customer: 101 today!"}', "command"),
            ('{"value1":20,"value2":10}', "io"),
        ]
    ]
    + [
        'curl \\-H "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9..." '
        "\\https://api.thinger.io/v2/users/alvarolb/devices/nodemcu/reset",
    ],
}

THINGER_JSON_HEADERS = [
    ("Content-Type", "application/json;charset=UTF-8"),
    ("Authorization", "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9..."),
    ("Accept", "application/json, text/plain, */*"),
]
PLGD_FORM = [
    ("grant_type", "authorization_code"),
    ("client_id", "9XjK2mCf2J0or4Ko0ow7wCmZeDTjC1mW"),
    ("client_secret", "UTeeIsSugTuDNbn4QMdBaNLDnMiBQzQaa6elm4SDuWOdZUou-aH00EPSbBhgppFD"),
    ("code", "{YOUR_AUTHORIZATION_CODE}"),
    ("redirect_uri", "http://localhost:8080/callback"),
]

EXPECTED = [
    RequestSpec(
        method="GET", url="[ENDPOINTS]/api/v1.1/Device", headers=[("accept", "text/plain")]
    ),
    RequestSpec(
        method="POST", url="https://auth.plgd.cloud/oauth/token", body_kind="form", form=PLGD_FORM
    ),
    RequestSpec(
        method="GET",
        url="https://openapi.try.plgd.cloud/api/v1/devices",
        headers=[
            ("authorization", "Bearer eyJ...lojg"),
            ("content-type", "application/json"),
            ("accept", "application/json"),
        ],
    ),
    RequestSpec(
        method="POST",
        url="https://auth.plgd.cloud/oauth/token",
        body_kind="form",
        form=[
            ("grant_type", "refresh_token"),
            ("client_id", "9XjK2mCf2J0or4Ko0ow7wCmZeDTjC1mW"),
            ("refresh_token", "{YOUR_REFRESH_TOKEN}"),
        ],
    ),
    RequestSpec(
        method="POST",
        url="https://iotspot-m2mauth-prod.auth.eu-central-1.amazoncognito.com/oauth2/token",
        headers=[("Authorization", "Basic XXXX")],
        body_kind="form",
        form=[
            ("client_id", "[Client_id]"),
            ("scope", "iotspot/openapi"),
            ("grant_type", "client_credentials"),
        ],
    ),
    *[
        RequestSpec(
            method="POST",
            url=f"https://api.thinger.io/v2/users/alvarolb/devices/nodemcu/{res}",
            headers=THINGER_JSON_HEADERS,
            body_kind="json",
            body=body,
        )
        for body, res in [
            ('{"in":true}', "relay"),
            ('{"in":{"r":0,"g":255,"b":0}}', "rgb"),
            ('{"in":"New customer: 101 today!"}', "command"),
            ('{"value1":20,"value2":10}', "io"),
        ]
    ],
    RequestSpec(
        method="GET",
        url="https://api.thinger.io/v2/users/alvarolb/devices/nodemcu/reset",
        headers=[("Authorization", "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...")],
    ),
]


def extract_curl_examples(text: str) -> list[str]:
    """Curl commands in a document: a line starting with `curl`, continued by lines after a
    trailing backslash or starting with an option."""
    lines = text.splitlines()
    found: list[str] = []
    i = 0
    while i < len(lines):
        if lines[i].lstrip().startswith("curl "):
            cmd = [lines[i].strip()]
            while i + 1 < len(lines) and (
                cmd[-1].endswith("\\") or lines[i + 1].lstrip().startswith("-")
            ):
                i += 1
                cmd.append(lines[i].strip())
            found.append("\n".join(cmd))
        i += 1
    return found


@pytest.mark.needs_shared  # reads ../shared/seeds (tests/conftest.py)
def test_the_examples_are_every_curl_command_of_the_seeds() -> None:
    assert SEEDS.is_dir(), (
        f"the seed documents are missing: {SEEDS.resolve()} (expected <repo>/../shared/seeds)"
    )
    for path in sorted(SEEDS.glob("*.txt")):
        assert extract_curl_examples(path.read_text()) == SEED_COMMANDS.get(path.name, []), (
            path.name
        )
    assert sum(len(v) for v in SEED_COMMANDS.values()) == 10


@pytest.mark.parametrize(
    ("command", "expected"),
    list(zip([c for v in SEED_COMMANDS.values() for c in v], EXPECTED, strict=True)),
)
def test_every_seed_example_parses(command: str, expected: RequestSpec) -> None:
    result = import_curl(command)
    assert result.spec == expected
    # and it survives an export/import round-trip
    assert parse_curl(to_curl(result.spec, with_secrets=True)) == expected


def test_seed_notes() -> None:
    notes = import_curl(SEED_COMMANDS["003_61435e6f314eb671.txt"][0]).notes
    assert any("--location is ignored" in n for n in notes)
    notes = import_curl(SEED_COMMANDS["000_55528f2240a5a838.txt"][0]).notes
    assert any("no scheme" in n for n in notes)


# --- options -------------------------------------------------------------------------------


def test_bundled_short_options_and_attached_values() -> None:
    spec = parse_curl("curl -sSLk -XPATCH -H'X-A: 1' -HX-B:2 https://h.example/p")
    assert spec.method == "PATCH"
    assert spec.headers == [("X-A", "1"), ("X-B", "2")]


def test_data_forms() -> None:
    spec = parse_curl(
        "curl https://h/x -d a=1 -d 'b=two words' --data-urlencode 'c=x&y=z' --data-urlencode '=lone'"
    )
    assert spec.method == "POST" and spec.body_kind == "text"  # "=lone" is not name=value: text
    assert spec.body == "a=1&b=two words&c=x%26y%3Dz&lone"
    assert spec.headers == [("Content-Type", "application/x-www-form-urlencoded")]
    spec = parse_curl("curl https://h/x -d a=1 --data-raw '@b=2' --data-urlencode 'c=x&y'")
    assert spec.body_kind == "form" and spec.form == [("a", "1"), ("@b", "2"), ("c", "x&y")]


def test_json_option_and_sniffing() -> None:
    spec = parse_curl("curl --json '{\"a\": 1}' https://h/x")
    assert (spec.method, spec.body_kind, spec.body) == ("POST", "json", '{"a": 1}')
    assert spec.headers == [
        ("Accept", "application/json")
    ]  # Content-Type: application/json is implied
    result = import_curl("curl -d '[1, 2]' https://h/x")
    assert result.spec.body_kind == "json" and result.spec.headers == []
    assert any("application/json" in n for n in result.notes)
    spec = parse_curl("curl -H 'Content-Type: application/vnd.api+json' -d 'not json' https://h/x")
    assert spec.body_kind == "json" and spec.headers == [
        ("Content-Type", "application/vnd.api+json")
    ]
    spec = parse_curl(
        "curl -H 'Content-Type: text/plain; charset=utf-8' -d '{\"a\":1}' https://h/x"
    )
    assert spec.body_kind == "text" and spec.headers == []


def test_get_moves_data_to_the_query_and_query_is_split() -> None:
    spec = parse_curl("curl -G https://h/x?page=2 -d count=10 --data-urlencode 'q=a b'")
    assert spec.method == "GET" and spec.body_kind == "none"
    assert spec.url == "https://h/x"
    assert spec.params == [("page", "2"), ("count", "10"), ("q", "a b")]
    assert parse_curl("curl 'https://h/x?flag'").url == "https://h/x?flag"  # not name=value: kept


def test_user_and_other_header_options() -> None:
    spec = parse_curl(
        "curl -u 'demo:pa:ss' -A agent/1 -e https://ref -b 'a=1; b=2' --oauth2-bearer T https://h"
    )
    basic = base64.b64encode(b"demo:pa:ss").decode()
    assert spec.headers == [
        ("Authorization", f"Basic {basic}"),
        ("User-Agent", "agent/1"),
        ("Referer", "https://ref"),
        ("Cookie", "a=1; b=2"),
        ("Authorization", "Bearer T"),
    ]
    assert parse_curl("curl -I https://h").method == "HEAD"
    assert parse_curl("curl -X delete --url https://h").method == "DELETE"
    assert parse_curl("curl -H 'X-Empty;' https://h").headers == [("X-Empty", "")]
    result = import_curl("curl -H 'Accept:' -v --compressed -o out.json -m 5 https://h")
    assert result.spec.headers == []
    assert len(result.notes) == 4


def test_multi_line_forms() -> None:
    text = """# create a thing
    $ curl -X POST \\
        'https://h/x' \\
        -H 'Content-Type: application/json' \\
        --data-raw '{
          "a": 1,
        # not a comment: inside the quotes
          "b": "x \\\\ y"
        }'
    """
    spec = parse_curl(text)
    assert spec.method == "POST" and spec.url == "https://h/x" and spec.body_kind == "json"
    assert "# not a comment" in spec.body and '"b": "x \\\\ y"' in spec.body
    win = "curl -X POST ^\n  https://h/x ^\n  -d a=1"
    assert parse_curl(win).form == [("a", "1")]
    crlf = "curl -X PUT \\\r\n https://h/x \\\r\n -d a=1"
    assert parse_curl(crlf).method == "PUT"


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("curl --frobnicate https://h", "unknown curl option '--frobnicate'"),
        ("curl -sZ https://h", "unknown curl option '-Z' (in '-sZ')"),
        ("curl -F a=1 -d b=2 https://h", "cannot be combined"),
        ("curl -d @body.json https://h", "reads the data from a file"),
        ("curl --data-urlencode name@file https://h", "reads the data from a file"),
        ("curl -H @headers.txt https://h", "reads headers from a file"),
        ("curl -H 'no colon here' https://h", "is not a header"),
        ("curl -b cookies.txt https://h", "reads cookies from a file"),
        ("curl https://a https://b", "2 URLs"),
        ("curl -X POST", "has no URL"),
        ("curl 'https://h", "unclosed quote"),
        ("wget https://h", "not a curl command"),
        ("curl -X", "needs a value"),
        ("curl -X BREW https://h", "unsupported method 'BREW'"),
        ("curl https://h\nls -la", "more than one command"),
        ("", "empty"),
    ],
)
def test_errors_are_clear(command: str, words: str) -> None:
    with pytest.raises(CurlError) as info:
        parse_curl(command)
    assert words in info.value.message


# --- export --------------------------------------------------------------------------------

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJ1c3IiOiJkZW1vIn0.c2lnbmF0dXJl"


def test_export_hides_credentials_unless_asked() -> None:
    spec = RequestSpec(
        method="POST",
        url="https://h/x",
        params=[("access_token", TOKEN), ("page", "1")],
        headers=[
            ("Authorization", f"Bearer {TOKEN}"),
            ("X-Api-Key", "k-123456"),
            ("Accept", "application/json"),
        ],
        body_kind="json",
        body=f'{{"password": "hunter22", "note": "{TOKEN}"}}',
    )
    text = to_curl(spec)
    assert TOKEN not in text and "hunter22" not in text and "k-123456" not in text
    assert '"Authorization: Bearer $TOKEN"' in text
    assert "access_token=$TOKEN" in text
    assert "$API_KEY" in text and "${PASSWORD}" in text
    assert text.startswith("curl --request POST \\\n  --url ")
    full = to_curl(spec, with_secrets=True)
    assert TOKEN in full and "hunter22" in full
    assert parse_curl(full) == spec
    form = RequestSpec(
        method="POST",
        url="https://h/t",
        body_kind="form",
        form=[("grant_type", "password"), ("password", "p@ss w")],
    )
    assert "password=$PASSWORD" in to_curl(form)
    assert parse_curl(to_curl(form, with_secrets=True)) == form
    basic = RequestSpec(url="https://h", headers=[("Authorization", "Basic ZGVtbzpwYXNz")])
    assert '"Authorization: Basic $BASIC_AUTH"' in to_curl(basic)


def test_export_placeholders_for_template_variables() -> None:
    spec = RequestSpec(
        url="https://h/{{user}}/x",
        headers=[("Authorization", "Bearer {{token}}")],
        params=[("q", "{{token}}-{{other}}")],
    )
    text = to_curl(spec, placeholders={"token": "TOKEN"})
    assert '"Authorization: Bearer $TOKEN"' in text
    assert "--globoff" in text and "{{user}}" in text
    assert "q=$TOKEN-%7B%7Bother%7D%7D" in text


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_export_is_real_shell_with_placeholders_expanded() -> None:
    spec = RequestSpec(
        method="PUT",
        url="https://h/x y",
        params=[("token", "t"), ("q", "it's $HOME")],
        headers=[("Authorization", "Bearer t"), ("X-Quote", 'say "hi" `now` !')],
        body_kind="text",
        body="line 1\nit's $HOME and \\n\n",
    )
    script = "curl() { printf '%s\\0' \"$@\"; }; TOKEN='real tok'\n" + to_curl(spec)
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout
    args = out.split("\x00")
    assert "Authorization: Bearer real tok" in args
    assert 'X-Quote: say "hi" `now` !' in args
    assert "https://h/x y?token=real tok&q=it%27s%20%24HOME" in args
    assert "line 1\nit's $HOME and \\n\n" in args


# --- round-trip (hypothesis) -------------------------------------------------------------

_NO_NUL = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
_TEXT = st.text(_NO_NUL, max_size=25)
_HEADER_NAME = st.from_regex(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,16}", fullmatch=True).filter(
    lambda n: n.lower() != "content-type"
)
_HEADER_VALUE = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r\n"), max_size=25
).map(str.strip)
_URL = st.one_of(
    st.from_regex(
        r"https?://[a-z0-9.-]{1,15}(:[0-9]{1,5})?(/[A-Za-z0-9._~%!$&'()*+,;=:@{}\[\] -]{0,10}){0,3}",
        fullmatch=True,
    ),
    st.builds(
        lambda p: "https://h.example/" + p,
        st.text(
            st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r\n?#"),
            max_size=15,
        ),
    ),
)


@st.composite
def specs(draw) -> RequestSpec:
    kind = draw(st.sampled_from(["none", "json", "text", "form"]))
    headers = draw(st.lists(st.tuples(_HEADER_NAME, _HEADER_VALUE), max_size=4))
    ctype = draw(
        st.sampled_from(
            {
                "none": [None, "application/json"],
                "json": [None, "application/vnd.api+json", "application/json; charset=utf-8"],
                "text": [None, "application/xml", "text/csv"],
                "form": [None, "application/x-www-form-urlencoded; charset=utf-8"],
            }[kind]
        )
    )
    if ctype is not None:
        headers.insert(draw(st.integers(0, len(headers))), ("Content-Type", ctype))
    body, form = "", []
    if kind in ("json", "text"):
        body = draw(_TEXT.filter(str.strip))
    elif kind == "form":
        form = draw(st.lists(st.tuples(_TEXT.filter(bool), _TEXT), min_size=1, max_size=4))
    return RequestSpec(
        method=draw(st.sampled_from(METHODS)),
        url=draw(_URL),
        params=draw(st.lists(st.tuples(_TEXT.filter(bool), _TEXT), max_size=4)),
        headers=headers,
        body_kind=kind,
        body=body,
        form=form,
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_import_of_an_export_gives_back_the_same_request(spec: RequestSpec) -> None:
    text = to_curl(spec, with_secrets=True)
    assert parse_curl(text) == spec, text
    # the command is valid shell: one word list, starting with curl
    assert shlex.split(text.replace("\\\n", " "))[0] == "curl"
