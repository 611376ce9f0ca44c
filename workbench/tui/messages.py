"""Messages shared between screens (attributes down, messages up)."""

from __future__ import annotations

from textual.message import Message


class ProfileChosen(Message):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
