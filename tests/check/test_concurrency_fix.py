"""The concurrency rules' fixes, end to end: ``--fix`` adds ``await`` and writes ``async with``,
``--unsafe-fixes`` keeps a dropped task's reference; the fixed file parses and is clean."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from tests.check.conftest import Cli, Project

SOURCE = """\
    \"\"\"A handler with every mechanical concurrency fix.\"\"\"
    import asyncio

    lock = asyncio.Lock()


    async def save(item):
        await asyncio.sleep(0)


    async def handler(item):
        save(item)
        asyncio.sleep(1)
        with lock:
            pass
        asyncio.create_task(save(item))
        if item:
            asyncio.create_task(save(item))  # a comment stays
"""


def _fixed(project: Project, cli: Cli, *flags: str) -> str:
    root = project({"app.py": SOURCE})
    cli("--no-cache", "--fix", *flags, "app.py")
    return (root / "app.py").read_text(encoding="utf-8")


def test_fix_awaits_coroutines_and_writes_async_with(project: Project, cli: Cli) -> None:
    text = _fixed(project, cli)
    assert "    await save(item)\n    await asyncio.sleep(1)\n    async with lock:\n" in text
    assert "    asyncio.create_task(save(item))\n" in text  # the unsafe fix waits for its flag
    ast.parse(text)
    left = cli("--no-cache", "--output-format", "json", "app.py").stdout
    assert '"UNS303"' not in left
    assert '"UNS306"' not in left
    assert '"UNS302"' in left


def test_unsafe_fix_keeps_dropped_tasks_in_a_module_level_set(project: Project, cli: Cli) -> None:
    text = _fixed(project, cli, "--unsafe-fixes")
    expected = textwrap.dedent(
        """\
        async def handler(item):
            await save(item)
            await asyncio.sleep(1)
            async with lock:
                pass
            task = asyncio.create_task(save(item))
            _background_tasks.add(task)
            task.add_done_callback(_background_tasks.discard)
            if item:
                task = asyncio.create_task(save(item))  # a comment stays
                _background_tasks.add(task)
                task.add_done_callback(_background_tasks.discard)
        """
    )
    assert text.endswith(expected), text
    assert text.count("_background_tasks: set[object] = set()") == 1
    ast.parse(text)
    assert cli("--no-cache", "app.py").returncode == 0


def test_no_fix_where_a_name_task_is_taken_or_outside_an_async_def(
    project: Project, cli: Cli, tmp_path: Path
) -> None:
    project(
        {
            "app.py": """\
                import asyncio

                lock = asyncio.Lock()


                async def save():
                    await asyncio.sleep(0)


                async def handler(task):
                    asyncio.create_task(save())
                    return task


                def sync_code():
                    save()
                    with lock:
                        pass
            """
        }
    )
    before = (tmp_path / "app.py").read_text(encoding="utf-8")
    result = cli("--no-cache", "--fix", "--unsafe-fixes", "app.py")
    assert result.returncode == 1
    assert (tmp_path / "app.py").read_text(encoding="utf-8") == before
