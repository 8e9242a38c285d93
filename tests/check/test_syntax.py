"""Files written for a newer Python are one clear finding naming that Python, not syntax errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from unstall._cli import main
from unstall.check._syntax import needed_python

NEWER = {
    "alias.py": "type Point = tuple[float, float]\n",
    "generic.py": "def first[T](items: list[T]) -> T:\n    return items[0]\n",
    "klass.py": "class Box[T]:\n    pass\n",
    "fstring.py": 'name = "x"\ntext = f"{"quoted " + name}"\n',
    "excepts.py": "try:\n    pass\nexcept ValueError, TypeError:\n    pass\n",
}


@pytest.mark.parametrize(
    ("message", "line", "expected"),
    [
        ("invalid syntax", "type Point = tuple[float, float]", (3, 12)),
        ("invalid syntax", "    type Alias[T] = list[T]", (3, 12)),
        ("expected '('", "def first[T](items: list[T]) -> T:", (3, 12)),
        ("invalid syntax", "class Box[T]:", (3, 12)),
        ("f-string: expecting '}'", 'text = f"{"a"}"', (3, 12)),
        ("multiple exception types must be parenthesized", "except A, B:", (3, 14)),
        ("invalid syntax", 'greeting = t"hello {name}"', (3, 14)),
        ("invalid syntax", "def broken(:", None),
        ("invalid syntax", "type = 5 +", None),
        ("invalid syntax", "x = f(t 'a')", None),
    ],
)
def test_constructs_of_newer_pythons_are_recognised(
    message: str, line: str, expected: tuple[int, int] | None
) -> None:
    found = needed_python(message, line, running=(3, 11))
    assert (found[0] if found else None) == expected
    # Under a Python that has the syntax, the same failure is a real syntax error.
    assert needed_python(message, line, running=(3, 14)) is None


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="needs a Python older than the syntax")
def test_a_project_for_a_newer_python_is_one_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, text in NEWER.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "broken.py").write_text("def broken(:\n    pass\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--no-cache", "--format", "json", "."]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    codes = sorted(finding["code"] for finding in findings)
    assert codes == ["UNS901", "UNS906"]
    newer = next(finding for finding in findings if finding["code"] == "UNS906")
    assert newer["path"] == "alias.py"
    assert sorted(item["path"] for item in newer["related"]) == sorted(set(NEWER) - {"alias.py"})
    assert "4 more files" in newer["message"]
    assert "a `type` statement" in newer["message"]
    assert "Run unstall with Python 3.14 or newer" in newer["message"]


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="needs a Python older than the syntax")
def test_syntax_of_314_under_any_older_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "excepts.py").write_text(NEWER["excepts.py"], encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--no-cache", "."]) == 1
    out = capsys.readouterr().out
    assert "UNS906" in out
    assert "needs Python 3.14" in out
    assert "UNS901" not in out
