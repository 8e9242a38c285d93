"""The fix applier, and ``--fix`` / ``--diff`` end to end on before/after pairs."""

from __future__ import annotations

from pathlib import Path

from unstall.check import Edit, Finding, Location
from unstall.check._apply import apply_edits, plan_fixes, unified_diff, write_fixes
from unstall.check._read import Source, read_source


def edit(start: tuple[int, int], end: tuple[int, int], text: str, path: str = "a.py") -> Edit:
    return Edit(path, start, end, text)


def finding(*edits: Edit, safe: bool = True) -> Finding:
    return Finding(
        "UNS101",
        "m",
        Location(edits[0].path, edits[0].start[0], edits[0].start[1]),
        fix="f",
        edits=edits,
        fix_safe=safe,
    )


def test_edits_apply_back_to_front() -> None:
    text = "a = time.sleep(1)\nb = time.sleep(2)\n"
    result, applied = apply_edits(
        text, [[edit((1, 4), (1, 14), "S")], [edit((2, 4), (2, 14), "T")]]
    )
    assert (result, applied) == ("a = S(1)\nb = T(2)\n", 2)


def test_overlapping_edits_drop_the_later_finding_whole() -> None:
    text = "abcdef\n"
    groups = [[edit((1, 1), (1, 4), "X")], [edit((1, 3), (1, 5), "Y"), edit((1, 0), (1, 0), "Z")]]
    assert apply_edits(text, groups) == ("aXef\n", 1)


def test_two_insertions_at_one_point_do_not_both_apply() -> None:
    assert apply_edits("ab\n", [[edit((1, 1), (1, 1), "X")], [edit((1, 1), (1, 1), "Y")]]) == (
        "aXb\n",
        1,
    )


def test_columns_are_utf8_bytes_and_line_endings_are_kept() -> None:
    text = 'x = "é"; time.sleep(1)\r\ny = 2\r\n'
    # "é" is two bytes: time starts at byte 10, character 9.
    result, _ = apply_edits(text, [[edit((1, 10), (1, 20), "await asyncio.sleep\nX")]])
    assert result == 'x = "é"; await asyncio.sleep\r\nX(1)\r\ny = 2\r\n'


def test_edits_outside_the_file_are_skipped() -> None:
    assert apply_edits("a\n", [[edit((9, 0), (9, 1), "x")]]) == ("a\n", 0)


def test_write_keeps_encoding_and_refuses_changed_files(tmp_path: Path) -> None:
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"# -*- coding: latin-1 -*-\nx = '\xe9'; time.sleep(1)\n")
    bom = tmp_path / "bom.py"
    bom.write_bytes(b"\xef\xbb\xbfx = 1; time.sleep(1)\n")
    changed = tmp_path / "changed.py"
    changed.write_text("time.sleep(1)\n", encoding="utf-8")
    paths = {"latin.py": latin, "bom.py": bom, "changed.py": changed}
    findings = [
        finding(
            edit((2, 10), (2, 20), "SLEEP", "latin.py")
        ),  # ast columns: UTF-8 bytes of the text
        finding(edit((1, 7), (1, 17), "SLEEP", "bom.py")),
        finding(edit((1, 0), (1, 10), "SLEEP", "changed.py")),
        finding(edit((1, 0), (1, 1), "UNSAFE", "changed.py"), safe=False),
    ]
    digests = {}
    for name, path in paths.items():
        source = read_source(str(path), max_size=10**6)
        assert isinstance(source, Source)
        digests[name] = source.digest
    plans = plan_fixes(findings, paths, unsafe=False)
    assert [plan.path for plan in plans] == ["bom.py", "changed.py", "latin.py"]
    assert "UNSAFE" not in plans[1].after
    changed.write_text("time.sleep(1)  # edited meanwhile\n", encoding="utf-8")
    fixed, skipped = write_fixes(plans, digests)
    assert (fixed, skipped) == (2, ["changed.py"])
    assert latin.read_bytes() == b"# -*- coding: latin-1 -*-\nx = '\xe9'; SLEEP(1)\n"
    assert bom.read_bytes() == b"\xef\xbb\xbfx = 1; SLEEP(1)\n"
    assert changed.read_text(encoding="utf-8") == "time.sleep(1)  # edited meanwhile\n"


def test_unified_diff(tmp_path: Path) -> None:
    path = tmp_path / "a.py"
    path.write_text("import time\ntime.sleep(1)", encoding="utf-8")
    plans = plan_fixes([finding(edit((2, 0), (2, 10), "sleep"))], {"a.py": path}, unsafe=False)
    assert unified_diff(plans) == (
        "--- a/a.py\n+++ b/a.py\n@@ -1,2 +1,2 @@\n import time\n-time.sleep(1)\n\\ No newline at end of file\n+sleep(1)\n\\ No newline at end of file\n"
    )
