"""A multipart request's parts are kept in the history (masked like form fields), and an
entry written before they were kept reads back with none."""

from __future__ import annotations

import httpx

from workbench.core.history.sent import Masker, capture_sent
from workbench.core.history.store import HistoryStore
from workbench.core.requests import BodyPart, RequestSpec, ResponseRecord

API_KEY = "k3y-" + "Zq9Xw2" * 8


def test_parts_round_trip_with_secrets_masked(tmp_path) -> None:
    path = tmp_path / "h.sqlite3"
    spec = RequestSpec(
        method="POST",
        url="{{urls.api}}/upload",
        body_kind="multipart",
        parts=[
            BodyPart("firmware", file="/data/fw.bin", content_type="application/octet-stream"),
            BodyPart("version", value="{{version}}"),
            BodyPart("api_key", value=API_KEY),
        ],
        deadline=12.5,
    )
    request = httpx.Request("POST", "https://api.example.test/upload")
    response = ResponseRecord(
        status=200,
        reason="OK",
        http_version="HTTP/1.1",
        url=str(request.url),
        method="POST",
        headers=[],
        body=b"{}",
        elapsed_ms=3.0,
    )
    masker = Masker([])
    store = HistoryStore(path)
    entry_id = store.add(
        profile="p",
        spec=spec,
        sent=capture_sent(request, masker),
        response=response,
        masker=masker,
    )
    entry = store.get(entry_id)
    assert entry is not None and entry.request is not None
    firmware, version, key = entry.request.parts
    assert firmware == spec.parts[0] and version == spec.parts[1]
    assert key.name == "api_key" and key.value is not None and API_KEY not in key.value
    assert entry.request.deadline == 12.5
    assert API_KEY.encode() not in path.read_bytes()


def test_a_request_without_parts_reads_back_with_none(tmp_path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    request = httpx.Request("GET", "https://api.example.test/x")
    response = ResponseRecord(
        status=204,
        reason="No Content",
        http_version="HTTP/1.1",
        url=str(request.url),
        method="GET",
        headers=[],
        body=b"",
        elapsed_ms=1.0,
    )
    masker = Masker([])
    entry_id = store.add(
        profile="p",
        spec=RequestSpec(url=str(request.url)),
        sent=capture_sent(request, masker),
        response=response,
        masker=masker,
    )
    entry = store.get(entry_id)
    assert entry is not None and entry.request is not None
    assert entry.request.parts == [] and entry.request.deadline is None
