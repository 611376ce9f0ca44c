"""What the headless commands write, in one place: nothing reaches a terminal raw.

- :func:`emit` writes a line (or several of our own lines) to stdout or stderr. It is the net
  under everything: whatever unsafe character (workbench.core.text's policy: ESC and every
  other control, bidi overrides, zero-width characters, the BOM, lone surrogates) is still in
  the text becomes a visible escape; only our own line feeds stay. It never fails on an
  encoding the terminal lacks.
- :func:`field` is for text we did not write (server messages, token claims, device labels,
  request names) inside one line: its newlines become ``\\n`` too, so it cannot fake a line.
- :func:`emit_json` prints ``--json`` documents ASCII-only (``ensure_ascii``): every non-ASCII
  character, control character and lone surrogate is a ``\\uXXXX`` escape.
- :func:`describe` is an error in words, each server-supplied part on its own escaped line.
- :func:`warn_tls` is the ``WARNING:`` line every command that uses a profile with TLS
  verification off prints on stderr.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

from workbench.core.errors import WorkbenchError
from workbench.core.text import escape_control, escape_keep_newlines

if TYPE_CHECKING:
    from workbench.core.profiles import Profile


def field(text: object) -> str:
    """Text we did not write, safe inside one line (newlines escaped as well)."""
    return escape_control(str(text))


def emit(
    text: str = "", stream: TextIO | None = None, *, end: str = "\n", flush: bool = False
) -> None:
    """Write ``text`` + ``end`` to ``stream`` (stdout by default), display safe.

    stderr is line buffered already; ``flush`` for stdout when a person waits for the line."""
    out = stream if stream is not None else sys.stdout
    text = escape_keep_newlines(text)
    encoding = getattr(out, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        text = text.encode(encoding, errors="backslashreplace").decode(encoding, errors="replace")
    out.write(text + end)
    if flush:
        out.flush()


def emit_styled(lines: list[str], sgr: str, stream: TextIO | None = None) -> None:
    """Lines of our own (the device login's QR code, its user code) in one SGR style
    (e.g. ``"30;47"`` black on white) when ``stream`` is a terminal, plain elsewhere.
    The text itself goes through the same escaping as :func:`emit`; only our SGR is raw."""
    out = stream if stream is not None else sys.stdout
    styled = bool(getattr(out, "isatty", lambda: False)())
    for line in lines:
        safe = escape_keep_newlines(line).replace("\n", " ")
        if styled:
            out.write(f"\x1b[{sgr}m{safe}\x1b[0m\n")
        else:
            emit(safe, out)
    out.flush()


def emit_json(data: Any, stream: TextIO | None = None) -> None:
    """A ``--json`` document, indented, ASCII only."""
    emit(json.dumps(data, indent=2, ensure_ascii=True), stream)


def describe(err: WorkbenchError) -> str:
    """``err``'s message, what the server said and the hint, one escaped line each."""
    lines = [field(err.message)]
    server = getattr(err, "server_message", None)
    if server and str(server) not in err.message:
        lines.append(f"  server said: {field(server)}")
    if err.hint:
        lines.append(f"  hint: {field(err.hint)}")
    return "\n".join(lines)


def show_error(err: WorkbenchError | str, *, lead: str = "workbench") -> None:
    """``workbench: <error>`` on stderr."""
    words = describe(err) if isinstance(err, WorkbenchError) else field(err)
    emit(f"{lead}: {words}", sys.stderr)


def warn_tls(profile: Profile, stream: TextIO | None = None) -> None:
    """``WARNING: TLS verification is OFF ...`` on stderr when `profile` turns it off."""
    note = profile.tls_note
    if note:
        emit(f"WARNING: {field(profile.name)}: {field(note)}", stream or sys.stderr)
