"""Hostile or broken documents: clear CatalogError, bounded work, no traceback."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from workbench.core.catalog.cache import open_catalog
from workbench.core.catalog.document import MAX_DOCUMENT_BYTES, read_document
from workbench.core.errors import CatalogError

BOMB = b"""openapi: 3.0.0
a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
paths: {}
"""


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (BOMB, "YAML aliases are not supported"),
        (b'{"info": {}}', "not an OpenAPI 3.x or Swagger 2.0 document"),
        (b'{"swagger": "2.0"}', "has no 'paths'"),
        (b"[1, 2", "not valid JSON"),
        (b"- a\n- : b: c\n  bad", "neither JSON nor valid YAML"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    ],
)
def test_broken_documents(tmp_path, data: bytes, words: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_bytes(data)
    with pytest.raises(CatalogError, match=words):
        open_catalog(str(path))


def test_external_and_dangling_refs_are_reported_not_fatal(tmp_path) -> None:
    doc = {
        "openapi": "3.0.0",
        "paths": {
            "/a/{id}": {
                "get": {
                    "parameters": [{"$ref": "other.yaml#/p"}, {"$ref": "#/nope"}],
                    "responses": {"200": {"$ref": "#/components/responses/missing"}},
                }
            }
        },
    }
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(doc))
    opened = open_catalog(str(path))
    assert len(opened.catalog.operations) == 1
    assert any("external reference" in p for p in opened.problems)
    assert any("unresolvable reference" in p for p in opened.problems)


def test_too_big_and_missing(tmp_path) -> None:
    with pytest.raises(CatalogError, match="no such file"):
        read_document(str(tmp_path / "nope.json"))
    big = tmp_path / "big.json"
    with big.open("wb") as fh:
        fh.truncate(MAX_DOCUMENT_BYTES + 1)
    with pytest.raises(CatalogError, match="limit"):
        read_document(str(big))


def test_plain_http_is_refused_off_loopback() -> None:
    with pytest.raises(CatalogError, match="plain http is refused"):
        read_document("http://example.com/spec.json")


class _Spec(BaseHTTPRequestHandler):
    hits: list[str | None] = []
    body = json.dumps({"openapi": "3.0.0", "paths": {"/x": {"get": {"responses": {}}}}}).encode()

    def do_GET(self) -> None:  # noqa: N802
        _Spec.hits.append(self.headers.get("If-None-Match"))
        if self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", '"v1"')
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


def test_url_documents_are_cached_with_their_etag() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Spec)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/spec.json"
        first = open_catalog(url)
        second = open_catalog(url)
        assert _Spec.hits == [None, '"v1"']
        assert second.note == "not modified since it was cached"
        assert second.catalog.operations == first.catalog.operations
    finally:
        server.shutdown()
    offline = open_catalog(url)  # the server is gone: the cached copy, said so
    assert offline.note is not None and "using the cached copy" in offline.note
