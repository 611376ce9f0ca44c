"""Fuzzy search over a catalog's operations (path, summary, operationId, tags, method).

Every word of the query must match, as a substring (best) or as an in-order subsequence of
letters (``dvcmd`` finds ``device-command``); the score favours matches in the path and the
operationId, whole words, and short paths. Plain Python over precomputed lower-case text: a
query over the ~350 operations of the vendors' documents takes well under a millisecond.
"""

from __future__ import annotations

from workbench.core.catalog.model import Catalog, Operation


def _subsequence(needle: str, hay: str) -> bool:
    it = iter(hay)
    return all(ch in it for ch in needle)


_TEXTS: dict[str, list[tuple[str, str, str]]] = {}  # sha256 -> (text, path, id) per operation


def _texts(catalog: Catalog) -> list[tuple[str, str, str]]:
    texts = _TEXTS.get(catalog.sha256)
    if texts is None or len(texts) != len(catalog.operations):
        texts = [
            (op.search_text(), op.path.lower(), op.operation_id.lower())
            for op in catalog.operations
        ]
        _TEXTS[catalog.sha256] = texts
    return texts


def score(op: Operation, words: list[str], texts: tuple[str, str, str] | None = None) -> float:
    """0 when a word does not match at all; higher is better."""
    text, path, op_id = texts or (op.search_text(), op.path.lower(), op.operation_id.lower())
    total = 0.0
    for word in words:
        if word in path or word in op_id:
            total += 10 + (5 if f"/{word}" in path else 0)
        elif word in text:
            total += 6
        elif word == op.method.lower():
            total += 4
        elif _subsequence(word, path) or _subsequence(word, op_id):
            total += 2
        else:
            return 0.0
    return total - len(path) / 200


def search(catalog: Catalog, query: str, *, limit: int | None = None) -> list[Operation]:
    """Operations matching `query`, best first (all of them, in document order, for "")."""
    words = query.lower().split()
    if not words:
        ops = list(catalog.operations)
        return ops[:limit] if limit else ops
    texts = _texts(catalog)
    scored = [(score(op, words, texts[i]), i, op) for i, op in enumerate(catalog.operations)]
    hits = sorted((t for t in scored if t[0] > 0), key=lambda t: (-t[0], t[1]))
    ops = [op for _, _, op in hits]
    return ops[:limit] if limit else ops
