"""A QR code as terminal text: two module rows per text row in half blocks (▀ ▄ █).

A URL of ~60-75 characters is a version-4 symbol (33 modules); with a 2-module quiet zone
that is 37 columns by 19 text rows, so it fits (and scans) on an 80x24 terminal. Dark
modules are drawn as ink: show the lines dark-on-light (the CLI and the TUI force black on
white) so a camera sees the code the right way round.
"""

from __future__ import annotations

BORDER = 2  # quiet zone in modules (the standard asks 4; 2 scans and fits at 80x24)
_CELLS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def qr_matrix(text: str, border: int = BORDER) -> list[list[bool]]:
    """The symbol's modules (True = dark), quiet zone included (segno picks the version)."""
    import segno

    code = segno.make(text, micro=False)
    return [[bool(m) for m in row] for row in code.matrix_iter(scale=1, border=border)]


def half_block_lines(matrix: list[list[bool]]) -> list[str]:
    """Each pair of module rows as one line of half blocks (an odd last row gets a light twin)."""
    lines: list[str] = []
    for top in range(0, len(matrix), 2):
        upper = matrix[top]
        lower = matrix[top + 1] if top + 1 < len(matrix) else [False] * len(upper)
        lines.append("".join(_CELLS[(a, b)] for a, b in zip(upper, lower, strict=True)))
    return lines


def qr_lines(text: str, border: int = BORDER) -> list[str]:
    """``text`` as a QR code in half-block lines."""
    return half_block_lines(qr_matrix(text, border))


def spaced_code(user_code: str) -> str:
    """A user code spaced out to read aloud and type: ``WDJB-MJHT`` -> ``W D J B - M J H T``."""
    return " ".join(user_code)
