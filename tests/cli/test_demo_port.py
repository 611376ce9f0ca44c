"""`workbench demo` runs its demo cloud on the default port (8765) when that is free, so
stored demo logins and the README's examples find it again; when the port is taken it runs
on another one and says so (terminal and profile picker). The README's fault examples work
against a demo cloud."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

import workbench.commands.tui
from workbench.cli import DEFAULT_DEMO_PORT, main
from workbench.tui.app import WorkbenchApp

README = Path(__file__).resolve().parents[2] / "README.md"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """`workbench demo` up to the TUI: what it would open the app with (and the demo cloud
    answering meanwhile)."""
    calls: list[dict[str, Any]] = []

    def fake_run_app(args: Any, demo_url: str | None = None, demo_note: str | None = None) -> int:
        assert demo_url is not None
        answer = httpx.get(f"{demo_url}/_emulator/faults", timeout=10)
        calls.append({"url": demo_url, "note": demo_note, "status": answer.status_code})
        return 0

    monkeypatch.setattr(workbench.commands.tui, "run_app", fake_run_app)
    return calls


def test_demo_uses_the_default_port_when_it_is_free(
    seen: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    port = free_port()  # stands for 8765, which another demo on this machine may hold
    monkeypatch.setattr("workbench.commands.demo.DEFAULT_DEMO_PORT", port)
    assert main(["demo"]) == 0
    assert seen == [{"url": f"http://127.0.0.1:{port}", "note": None, "status": 200}]
    assert "taken" not in capsys.readouterr().err


def test_demo_says_so_when_the_default_port_is_taken(
    seen: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = int(holder.getsockname()[1])
        monkeypatch.setattr("workbench.commands.demo.DEFAULT_DEMO_PORT", port)
        assert main(["demo"]) == 0
    [call] = seen
    assert call["status"] == 200 and call["url"] != f"http://127.0.0.1:{port}"
    assert f"port {port} is taken" in call["note"] and call["url"] in call["note"]
    assert f"port {port} is taken" in capsys.readouterr().err


def test_an_explicit_port_is_used_as_given(seen: list[dict[str, Any]]) -> None:
    port = free_port()
    assert main(["demo", "--port", str(port)]) == 0
    assert seen[0]["url"] == f"http://127.0.0.1:{port}" and seen[0]["note"] is None


def test_the_default_port_is_the_readme_port() -> None:
    assert DEFAULT_DEMO_PORT == 8765
    assert "localhost:8765/_emulator/faults" in README.read_text()


async def test_the_picker_shows_the_note() -> None:
    note = (
        "port 8765 is taken (another demo cloud?): this demo cloud runs on http://127.0.0.1:40001"
    )
    app = WorkbenchApp(demo_url="http://127.0.0.1:40001", demo_note=note)
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.pause()
        notes = str(app.screen.query_one("#picker-notes").render())
        assert "port 8765 is taken" in notes and "127.0.0.1:40001" in notes


def test_readme_fault_examples_work_on_a_demo_cloud(fresh_emulator) -> None:
    text = README.read_text()
    block = text.split("Faults are off by", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]
    assert len(commands) >= 5
    port = httpx.URL(fresh_emulator.base_url).port
    for command in commands:
        m = re.fullmatch(r"curl -X POST localhost:8765(/\S+)(?: -d '(.*)')?", command)
        assert m, command
        url = f"http://127.0.0.1:{port}{m.group(1)}"
        answer = httpx.post(url, content=(m.group(2) or "").encode(), timeout=10)
        assert answer.status_code == 200, (command, answer.text)
    httpx.post(f"http://127.0.0.1:{port}/_emulator/faults/reset", timeout=10)
