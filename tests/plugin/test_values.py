"""The plugin's failure text holds no value from the program: every covered call, with a secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.plugin.conftest import RunPytest
from tests.watch.secret_calls import SECRET, SECRET_SECONDS

ROOT = Path(__file__).resolve().parents[2]


def test_failure_text_names_calls_by_kind_and_size_only(
    run_pytest: RunPytest, tester: pytest.Pytester
) -> None:
    work = tester.path / "work"
    work.mkdir()
    (tester.path / "test_secrets.py").write_text(
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        f"sys.path[:0] = [{str(ROOT)!r}, {str(work)!r}]\n"
        "from tests.watch.secret_calls import blocking_calls, prepare, run_all, servers\n"
        "\n"
        "def test_everything():\n"
        f"    folder = Path({str(work)!r})\n"
        "    prepare(folder)\n"
        "    with servers() as srv:\n"
        "        calls = blocking_calls(folder, srv)\n"
        "        async def main():\n"
        "            run_all(calls, lambda: 0)\n"
        "        asyncio.run(main())\n"
    )
    result = run_pytest("--unstall", "test_secrets.py")
    result.assert_outcomes(failed=1)
    # the plugin's part of the failure; the program's own output (an input() prompt) follows it
    text = result.stdout.str()
    text = text[text.index("unstall: this test blocked") :]
    text = text[: text.index("Captured stdout")]
    assert "blocking call time.sleep(float)" in text
    assert "blocking call subprocess.run(str[" in text or "subprocess.Popen" in text
    assert SECRET not in text
    assert str(SECRET_SECONDS) not in text
