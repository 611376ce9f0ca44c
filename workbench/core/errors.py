"""The error hierarchy of IoT Workbench, documented in one place.

Everything the core raises on purpose derives from :class:`WorkbenchError`. The TUI and
the CLI catch ``WorkbenchError`` and show ``str(err)`` (and ``err.hint`` when present);
anything else reaching them is a bug.

::

    WorkbenchError
    ├── ConfigError               a TOML file is malformed or has unknown keys / bad values
    │   ├── ProfileError          ... in a profile
    │   └── CollectionError       ... in a collection
    │       └── CollectionChangedOnDisk   the file changed since it was loaded (save(force=True))
    ├── ExpectError               a malformed [requests.expect] table (key_path locates it)
    ├── JsonPathError             a JSON path outside the supported subset
    ├── CurlError                 a curl command that cannot be imported
    ├── CatalogError              an OpenAPI/Swagger document cannot be read, fetched or parsed
    ├── SecretError               a secret reference cannot be resolved (env var unset, no TTY, ...)
    ├── SecretOriginError         a secret would go to an origin its profile does not own (refused)
    ├── AuthError                 a login / refresh step failed (step, status, server message, hint);
    │                             exit 3, or 4 when the server answered 5xx
    │   ├── LoginRequired         the session cannot continue without a new interactive login
    │   └── CallbackError         the authorization-code callback failed (state mismatch, error=...)
    ├── TokenError                a token cannot be parsed / inspected / checked
    │   └── MalformedToken        the token's text cannot be decoded (the inspection's error)
    ├── TransportError            network-level failure (connect, timeout, TLS, reset)
    ├── ResponseError             the server answered something we cannot use (HTML, garbage, ...)
    ├── StoreError                the token store could not be read or written
    └── HistoryError              the request history (SQLite) could not be read or written

Collection loading turns ExpectError and JsonPathError into a CollectionError with the
file, line and column; token inspection turns MalformedToken into the report's ``error``.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """Base class. ``hint`` is a plain-words suggestion of what to do next."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def describe(self) -> str:
        """The message and, when there is one, the hint, for a terminal."""
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class ConfigError(WorkbenchError):
    """A data file (TOML) is malformed or has an unknown key or bad value.

    ``path``, ``line``, ``column`` and ``key`` locate the problem when known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.key = key
        where = ""
        if path:
            where = str(path)
            if line is not None:
                where += f":{line}"
                if column is not None:
                    where += f":{column}"
            where += ": "
        if key and key not in message:
            message = f"{message} (key '{key}')"
        super().__init__(where + message, hint=hint)


class ProfileError(ConfigError):
    """A profile file is malformed, unknown, or has an unknown key / bad value."""


class CollectionError(ConfigError):
    """A collection file is malformed or has an unknown key / bad value."""


class CollectionChangedOnDisk(CollectionError):
    """The collection file changed on disk since it was loaded (or last saved); saving
    again with ``force`` overwrites it."""


class ExpectError(WorkbenchError):
    """A malformed expectation; ``key_path`` locates it inside the expect table."""

    def __init__(self, message: str, key_path: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.key_path = key_path


class JsonPathError(WorkbenchError):
    """A JSON path that is not in the supported subset (or a capture source that is
    neither a JSON path nor ``header:Name``)."""


class CurlError(WorkbenchError):
    """A curl command that cannot be imported (bad quoting, unknown option, ...)."""


class CatalogError(WorkbenchError):
    """An API catalog (an OpenAPI 3.x / Swagger 2.0 document) cannot be read, fetched or
    parsed, or an operation / device the user named is not in it."""


class SecretError(WorkbenchError):
    """A secret reference could not be resolved (unset env var, no TTY for a prompt...)."""

    exit_code = 3  # the CLI's "auth failed"


class SecretOriginError(WorkbenchError):
    """A request would carry a secret (a session token, or a value from an env / prompt /
    keyring reference) to an origin (scheme, host, port) that is not one of its profile's
    own; it is refused before anything is sent. ``variable`` names the variable, ``host``
    the origin. The CLI's usage error: the collection (or command) asks for something
    the workbench will not do."""

    exit_code = 2  # the CLI's "usage or file error"

    def __init__(self, message: str, *, variable: str, host: str, hint: str | None = None) -> None:
        self.variable = variable
        self.host = host
        super().__init__(message, hint=hint)


class AuthError(WorkbenchError):
    """A step of an auth flow failed.

    ``step`` names the step ("basic-token", "login", "refresh", "token", "callback", ...),
    ``status`` the HTTP status when there was one, ``server_message`` the server's own
    words (already escaped of control codes and markup). ``rate_limit_handled`` is set when
    the flow already waited out a 429 once, so the session does not retry it again.

    ``exit_code`` is the CLI's 3 ("auth failed"), except when the server answered 5xx (a
    maintenance page, a crash) or 429 (rate limited): then the credentials were never
    judged and it is 4 ("network or server error").
    """

    rate_limit_handled = False

    def __init__(
        self,
        message: str,
        *,
        step: str | None = None,
        status: int | None = None,
        server_message: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.step = step
        self.status = status
        self.server_message = server_message
        super().__init__(message, hint=hint)

    @property
    def exit_code(self) -> int:
        return 4 if self.status is not None and (self.status == 429 or self.status >= 500) else 3

    def describe(self) -> str:
        text = self.message
        if self.server_message and self.server_message not in text:
            text += f"\n  server said: {self.server_message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class LoginRequired(AuthError):
    """The session's refresh failed for good (revoked / reused / invalid_grant): log in again."""


class CallbackError(AuthError):
    """The authorization-code callback was refused, mismatched or timed out."""


class TokenError(WorkbenchError):
    """A token could not be parsed (malformed JWT, bad base64, not JSON...)."""


class MalformedToken(TokenError):
    """The token's text cannot be decoded further; the message is the inspection report's
    error."""


class TransportError(WorkbenchError):
    """Connection refused, DNS failure, timeout, TLS failure, connection reset."""

    exit_code = 4  # the CLI's "network or server error"


class ResponseError(WorkbenchError):
    """The server answered, but not with something we can use (HTML, garbage, truncated)."""

    exit_code = 4  # the CLI's "network or server error"

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None) -> None:
        self.status = status
        super().__init__(message, hint=hint)


class StoreError(WorkbenchError):
    """The token store could not be read or written."""


class HistoryError(WorkbenchError):
    """The request history could not be read or written (a corrupt file is set aside and a
    new one made: :mod:`workbench.core.history.store`)."""

    exit_code = 2  # the CLI's "usage or file error"
