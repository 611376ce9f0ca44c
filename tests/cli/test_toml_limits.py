"""Issue 11 "Tracebacks from hostile input": TOML too deep, keys too long or too many.

Before: a deeply nested collection raised RecursionError (a traceback) in `run`, and the
same file in the profiles directory broke `workbench profiles` and the TUI start; a 40 KB
dotted key took 14 s and 1.6 GB. Now a cheap scan before tomllib / tomlkit refuses each
with file:line:column words; a broken profile is listed as broken, the others still load.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from workbench.cli import main

NESTED = "version = 1\nx = " + "[" * 5000 + "]" * 5000 + "\n"
INLINE = "version = 1\nx = " + "{a=" * 2000 + "1" + "}" * 2000 + "\n"
DOTTED = "version = 1\n" + ".".join(["a"] * 20000) + " = 1\n"  # 40 KB
LONG_KEY = "version = 1\n" + "k" * 5000 + " = 1\n"
MANY_KEYS = "version = 1\n" + "".join(f"k{i} = 1\n" for i in range(100_001))

CASES = [
    (NESTED, "nested deeper than", 2),
    (INLINE, "nested deeper than", 2),
    (DOTTED, "more than 32 dotted parts", 2),
    (LONG_KEY, "a key longer than 1024 characters", 2),
    (MANY_KEYS, "more than 100000 keys", 100_001),
]


@pytest.mark.parametrize(("text", "words", "line"), CASES)
def test_run_refuses_a_hostile_collection_with_file_and_line(
    text: str, words: str, line: int, tmp_path: Path, capsys
) -> None:
    coll = tmp_path / "hostile.toml"
    coll.write_text(text, encoding="utf-8")
    start = time.monotonic()
    code = main(["run", str(coll)])
    took = time.monotonic() - start
    out, err = capsys.readouterr()
    assert code == 2
    assert f"hostile.toml:{line}:" in err and words in err, err
    assert "Traceback" not in out + err
    assert took < 5, f"{took:.1f} s"


def test_a_hostile_profile_is_listed_as_broken_and_the_others_still_load(
    tmp_path: Path, capsys
) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "deep.toml").write_text(NESTED, encoding="utf-8")
    (profiles / "dotted.toml").write_text(DOTTED, encoding="utf-8")
    (profiles / "fine.toml").write_text(
        'version = 1\nplatform = "generic"\n[urls]\napi = "http://127.0.0.1:9"\n'
        '[auth]\nflow = "none"\n',
        encoding="utf-8",
    )
    start = time.monotonic()
    code = main(["profiles", "--json", "--profiles", str(profiles)])
    took = time.monotonic() - start
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Traceback" not in out + err
    data = json.loads(out)
    names = {p["name"] for p in data["profiles"]}
    assert "fine" in names
    broken = {Path(e["path"]).name: e for e in data["errors"]}
    assert "nested deeper than" in broken["deep.toml"]["message"]
    assert broken["deep.toml"]["line"] == 2
    assert "dotted parts" in broken["dotted.toml"]["message"]
    assert took < 5, f"{took:.1f} s"


async def test_the_tui_starts_with_a_hostile_profile_and_lists_it_as_broken(tmp_path: Path) -> None:
    from workbench.tui.app import WorkbenchApp

    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "deep.toml").write_text(INLINE, encoding="utf-8")
    app = WorkbenchApp(profiles_dir=str(profiles))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        notes = str(app.screen.query_one("#picker-notes").render())
        assert "broken profile" in notes and "deep.toml:2:" in notes, notes
        assert "nested deeper than" in notes
