"""The labels of jump mode: pure, testable without a terminal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

JUMP_KEYS = "1234567890abcdefghijklmnopqrstuvwxyz"
"""The label characters, in the order they are handed out (digits first: closest to reach)."""


def assign_labels(
    spots: Sequence[tuple[T, int, int]], keys: str = JUMP_KEYS
) -> list[tuple[str, T, int, int]]:
    """One label character per spot ``(target, x, y)``, in reading order (top to bottom,
    then left to right): ``[(label, target, x, y)]``. Each character is used once; spots
    beyond ``len(keys)`` get none. Two spots at the same place share it: the first keeps it."""
    seen: set[tuple[int, int]] = set()
    ordered: list[tuple[T, int, int]] = []
    for target, x, y in sorted(spots, key=lambda s: (s[2], s[1])):
        if (x, y) in seen:
            continue
        seen.add((x, y))
        ordered.append((target, x, y))
    unique = list(dict.fromkeys(keys))
    return [(label, target, x, y) for label, (target, x, y) in zip(unique, ordered, strict=False)]
