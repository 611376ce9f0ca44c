"""Secret references and redaction.

A profile never holds a secret value. It holds a reference, a TOML inline table:

    password = { env = "THINGER_PASSWORD" }                 # an environment variable
    password = { prompt = "Thinger password" }              # asked on a TTY / in the login screen
    password = { keyring = "thinger-password" }             # the OS keyring (service "iot-workbench")
    password = { env = "THINGER_PASSWORD", prompt = "Password" }   # first that answers wins
    password = { env = "X", demo = "thinger-demo-pass-1157" }      # demo profiles only (loopback URLs)

Resolution order: explicit value given by the UI (login form) -> env -> keyring -> demo
value -> prompt (when a prompter is available) -> SecretError naming what to set.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from workbench.core.errors import SecretError
from workbench.core.keyring_access import keyring_get

REF_KEYS = {"env", "prompt", "keyring", "demo"}
REDACTED = "«redacted»"

Prompter = Callable[[str, bool], str]  # (label, secret) -> value


@dataclass(frozen=True)
class SecretRef:
    name: str  # the profile key it came from, e.g. "password"
    env: str | None = None
    prompt: str | None = None
    keyring: str | None = None
    demo: str | None = None

    def describe(self) -> str:
        """Where this secret comes from, in words (never the value)."""
        parts = []
        if self.env:
            parts.append(f"env ${self.env}")
        if self.keyring:
            parts.append(f"keyring '{self.keyring}'")
        if self.demo is not None:
            parts.append("demo value")
        if self.prompt:
            parts.append("prompt")
        return " or ".join(parts) or "nowhere"

    @property
    def label(self) -> str:
        return self.prompt or self.name.replace("_", " ")


class SecretResolver:
    """Turns SecretRefs into values for one login, remembering every value it hands out
    so traces and logs can redact them."""

    def __init__(
        self,
        *,
        values: dict[str, str] | None = None,
        prompter: Prompter | None = None,
        environ: dict[str, str] | None = None,
    ) -> None:
        self.values = dict(values or {})  # given by the UI, keyed by ref.name
        self.prompter = prompter
        self.environ = os.environ if environ is None else environ
        self.handed_out: set[str] = set()

    def source_of(self, ref: SecretRef) -> str | None:
        """Which source would answer, without prompting ("given", "env", "keyring", "demo") or None."""
        if self.values.get(ref.name):
            return "given"
        if ref.env and self.environ.get(ref.env):
            return "env"
        if ref.keyring and keyring_get(ref.keyring):
            return "keyring"
        if ref.demo is not None:
            return "demo"
        return None

    def peek(self, ref: SecretRef) -> str | None:
        """The value if it can be had without prompting, else None."""
        value = self.values.get(ref.name)
        if not value and ref.env:
            value = self.environ.get(ref.env)
        if not value and ref.keyring:
            value = keyring_get(ref.keyring)
        if not value and ref.demo is not None:
            value = ref.demo
        if value:
            self.handed_out.add(value)
        return value or None

    def resolve(self, ref: SecretRef) -> str:
        value = self.peek(ref)
        if value:
            return value
        if self.prompter is not None:
            value = self.prompter(ref.label, True)
            if value:
                self.values[ref.name] = value
                self.handed_out.add(value)
                return value
        hint_parts = []
        if ref.env:
            hint_parts.append(f"set the environment variable {ref.env}")
        if ref.keyring:
            hint_parts.append(f"store it in the keyring as '{ref.keyring}'")
        if ref.prompt:
            hint_parts.append("run on a terminal to be asked for it")
        hint = (
            " or ".join(hint_parts) or "add an env/keyring/prompt reference for it to the profile"
        )
        raise SecretError(f"no value for the secret '{ref.name}' ({ref.describe()})", hint=hint)


def tty_prompter() -> Prompter | None:
    """A getpass prompter when stdin is a terminal, else None (headless: never block)."""
    import sys

    if not sys.stdin or not sys.stdin.isatty():
        return None

    def ask(label: str, secret: bool) -> str:
        import getpass

        return getpass.getpass(f"{label}: ") if secret else input(f"{label}: ")

    return ask


class Redactor:
    """Replaces known secret values (and their common encodings) with a marker."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        for s in secrets:
            self.add(s)

    def add(self, value: str | None) -> None:
        if not value or len(value) < 4:
            return
        import base64
        from urllib.parse import quote, quote_plus

        self._values.update({value, quote(value, safe=""), quote_plus(value)})
        self._values.add(base64.b64encode(value.encode()).decode())

    def add_basic(self, user: str, password: str) -> None:
        """The base64 form of a Basic credential made from these two parts."""
        import base64
        from urllib.parse import quote_plus

        for u, p in ((user, password), (quote_plus(user), quote_plus(password))):
            self._values.add(base64.b64encode(f"{u}:{p}".encode()).decode())

    def __call__(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, REDACTED)
        return text

    @property
    def values(self) -> frozenset[str]:
        return frozenset(self._values)
