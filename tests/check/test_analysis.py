"""The analysis in detail: chains and messages, fix edits, settings, summaries and module names."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from unstall.catalog import default_catalog
from unstall.check import ChainStep, Config, Location, check
from unstall.check._analyze import AnalysisSettings, analyze
from unstall.check._modules import module_name
from unstall.check._summary import summarize
from unstall.check._summary_types import ModuleSummary

Project = Callable[[Mapping[str, str | bytes]], Path]
Cli = Callable[..., "subprocess.CompletedProcess[str]"]

CONFIG = """\
    def load_config():
        return read_file("app.toml")


    def read_file(name):
        with open(name) as handle:
            return handle.read()
    """
HANDLERS = """\
    from app.config import load_config


    async def handler():
        settings = load_config()
        return settings
    """


def summaries(files: Mapping[str, str]) -> list[ModuleSummary]:
    """Summaries of in-memory modules (name -> source), as the runner would make them."""
    result = []
    for name, text in files.items():
        is_package = name.endswith(".__init__")
        module = name.removesuffix(".__init__")
        path = name.replace(".", "/") + ".py"
        result.append(summarize(text, path=path, module=module, is_package=is_package))
    return result


def run(
    files: Mapping[str, str],
    *,
    allow: tuple[str, ...] = (),
    offload_helpers: tuple[str, ...] = (),
    threadpool_decorators: tuple[str, ...] = (),
) -> list[tuple[str, int, str]]:
    """Findings as (path, line, code), with the catalog and allow-list a ``Config`` gives."""
    config = Config(
        allow=allow, offload_helpers=offload_helpers, threadpool_decorators=threadpool_decorators
    )
    found = analyze(
        summaries(files), catalog=config.catalog(), settings=AnalysisSettings(allow=config.allow)
    )
    return sorted((f.location.path, f.location.line, f.code) for f in found)


def test_cross_module_chain_message_and_fix(project: Project) -> None:
    root = project({"app/__init__.py": "", "app/config.py": CONFIG, "app/handlers.py": HANDLERS})
    result = check([root], config=Config(root=root), jobs=1, use_cache=False)
    (finding,) = result.findings
    assert finding.code == "UNS102"
    assert finding.location == Location("app/handlers.py", 5, 15, 5, 28)
    assert finding.function == "app.handlers.handler"
    assert finding.entry == "builtins.open"
    assert finding.chain == (
        ChainStep("load_config", Location("app/config.py", 1, 0)),
        ChainStep("read_file", Location("app/config.py", 5, 0)),
        ChainStep("open", Location("app/config.py", 6, 9, 6, 19)),
    )
    assert finding.message == (
        "`handler` can block the event loop: `load_config` → `read_file` → `open`"
        " (blocking file-system call)."
    )
    assert finding.fix is not None
    assert finding.fix.startswith(
        "run `load_config` in a thread: await asyncio.to_thread(load_config)"
    )
    assert "in `read_file`" in finding.fix
    assert not finding.fix_safe
    assert [edit.text for edit in finding.edits] == [
        "import asyncio\n",
        "await asyncio.to_thread(load_config)",
    ]


def test_text_report_shows_the_chain(project: Project, cli: Cli) -> None:
    project({"app/__init__.py": "", "app/config.py": CONFIG, "app/handlers.py": HANDLERS})
    out = cli("--no-cache").stdout
    assert (
        "via app.handlers.handler -> load_config (app/config.py:1) -> read_file (app/config.py:5)"
        " -> open (app/config.py:6)"
    ) in out


def test_direct_call_message_and_chain(project: Project) -> None:
    root = project({"app.py": "import time\n\n\nasync def handler():\n    time.sleep(2)\n"})
    (finding,) = check([root], config=Config(root=root), use_cache=False).findings
    assert finding.message == "`handler` can block the event loop: `time.sleep` (blocking sleep)."
    assert finding.chain == (ChainStep("time.sleep", Location("app.py", 5, 4, 5, 17)),)
    assert finding.fix == "await asyncio.sleep(2)"
    assert finding.fix_safe


def test_awaited_blocking_call_is_uns201_with_its_own_message(project: Project) -> None:
    root = project(
        {"app.py": "import requests\n\n\nasync def handler(url):\n    await requests.get(url)\n"}
    )
    (finding,) = check([root], config=Config(root=root), use_cache=False).findings
    assert finding.code == "UNS201"
    assert finding.entry == "requests.get"
    assert "awaits the result of `requests.get`" in finding.message
    assert [edit.text for edit in finding.edits][-1] == "asyncio.to_thread(requests.get, url)"
    assert not finding.fix_safe


def fix(cli: Cli, root: Path, source: str, *options: str) -> str:
    (root / "app.py").write_text(source, encoding="utf-8")
    cli("--no-cache", "--fix", *options)
    return (root / "app.py").read_text(encoding="utf-8")


def test_safe_fix_rewrites_sleep_and_adds_the_import(project: Project, cli: Cli) -> None:
    root = project({})
    before = '"""Doc."""\nimport time\n\n\nasync def handler():\n    time.sleep(1)\n    x = 1\n    time.sleep(x)\n'
    assert fix(cli, root, before) == (
        '"""Doc."""\nimport time\nimport asyncio\n\n\nasync def handler():\n'
        "    await asyncio.sleep(1)\n    x = 1\n    await asyncio.sleep(x)\n"
    )


def test_safe_fix_keeps_an_existing_import_and_fixes_awaited_sleep(
    project: Project, cli: Cli
) -> None:
    root = project({})
    before = (
        "import asyncio\nfrom time import sleep\n\n\nasync def handler():\n    await sleep(1)\n"
    )
    assert fix(cli, root, before) == (
        "import asyncio\nfrom time import sleep\n\n\nasync def handler():\n    await asyncio.sleep(1)\n"
    )


def test_offload_fixes_need_unsafe_fixes(project: Project, cli: Cli) -> None:
    root = project({})
    before = (
        "import requests\n\n\nasync def handler(url):\n    return requests.get(url, timeout=5)\n"
    )
    assert fix(cli, root, before) == before
    assert fix(cli, root, before, "--unsafe-fixes") == (
        "import requests\nimport asyncio\n\n\nasync def handler(url):\n"
        "    return await asyncio.to_thread(requests.get, url, timeout=5)\n"
    )


def test_no_edit_where_await_cannot_go(project: Project) -> None:
    root = project(
        {
            "app.py": (
                "import time\n\n\nasync def handler(items):\n"
                "    print(time.sleep(1) or 1)\n"
                "    items.sort(key=lambda item: time.sleep(item))\n"
            )
        }
    )
    findings = check([root], config=Config(root=root), use_cache=False).findings
    assert [f.location.line for f in findings] == [5, 6]
    assert all(f.edits == () and not f.fix_safe for f in findings)


def test_allow_names_functions_and_blocking_callables() -> None:
    files = {
        "app": (
            "import time, os\n\n"
            "def helper():\n    time.sleep(1)\n\n"
            "async def handler():\n    helper()\n    os.listdir('.')\n\n"
            "async def legacy():\n    time.sleep(1)\n"
        )
    }
    assert run(files) == [
        ("app.py", 7, "UNS101"),
        ("app.py", 8, "UNS102"),
        ("app.py", 11, "UNS101"),
    ]
    assert run(files, allow=("app.helper", "os.listdir", "app.legacy")) == []
    assert run(files, allow=("time.sleep",)) == [("app.py", 8, "UNS102")]


def test_configured_offload_helper_by_name_and_method() -> None:
    files = {
        "app": (
            "import time\nfrom jobs import run_blocking\n\n"
            "async def handler(hass):\n"
            "    await run_blocking(lambda: time.sleep(1))\n"
            "    await hass.run_in_pool(lambda: time.sleep(1))\n"
            "    await hass.async_add_executor_job(lambda: time.sleep(1))\n"
        )
    }
    # Home Assistant's executor jobs are built in; a framework's own helper is configured.
    assert run(files) == [("app.py", 5, "UNS101"), ("app.py", 6, "UNS101")]
    helpers = ("jobs.run_blocking", "myframework.core.App.run_in_pool")
    assert run(files, offload_helpers=helpers) == []


def test_threadpool_decorators() -> None:
    files = {
        "app": (
            "import time\nfrom web import threaded\n\n"
            "@threaded\ndef work():\n    time.sleep(1)\n\n"
            "async def handler():\n    await work()\n"
        )
    }
    assert run(files) == [("app.py", 9, "UNS101")]
    assert run(files, threadpool_decorators=("web.threaded",)) == []


def test_a_long_chain_across_modules_terminates_with_the_whole_chain() -> None:
    count = 400
    files = {
        f"m{index}": f"import m{index + 1}\n\ndef f():\n    return m{index + 1}.f()\n"
        for index in range(count)
    }
    files[f"m{count}"] = "import time\n\ndef f():\n    time.sleep(1)\n"
    files["app"] = "import m0\n\nasync def handler():\n    m0.f()\n"
    found = analyze(summaries(files), catalog=default_catalog())
    (finding,) = found
    assert len(finding.chain) == count + 2
    assert finding.chain[-1].name == "time.sleep"


def test_mutual_recursion_without_blocking_is_clean() -> None:
    files = {
        "a": "import b\n\ndef f(n):\n    return b.g(n)\n\nasync def handler():\n    f(1)\n",
        "b": "import a\n\ndef g(n):\n    return a.f(n - 1)\n",
    }
    assert run(files) == []


def test_summaries_are_small_picklable_values() -> None:
    (summary,) = summaries(
        {"pkg.mod": "import requests\n\nasync def f():\n    requests.get('u')\n"}
    )
    assert pickle.loads(pickle.dumps(summary)) == summary
    assert "ast" not in pickle.dumps(summary).decode("latin-1")


def test_relative_imports_resolve_against_the_package() -> None:
    files = {
        "pkg.__init__": "from .io import load\n",
        "pkg.io": "def load():\n    return open('x').read()\n",
        "pkg.sub.__init__": "",
        "pkg.sub.handlers": (
            "from .. import load\nfrom ..io import load as again\n\n"
            "async def h():\n    load()\n    again()\n"
        ),
    }
    assert run(files) == [
        ("pkg/sub/handlers.py", 5, "UNS102"),
        ("pkg/sub/handlers.py", 6, "UNS102"),
    ]


def test_module_names(tmp_path: Path) -> None:
    src = tmp_path / "src" / "app" / "db"
    src.mkdir(parents=True)
    (tmp_path / "src" / "app" / "__init__.py").write_text("", encoding="utf-8")
    (src / "__init__.py").write_text("", encoding="utf-8")
    (src / "models.py").write_text("", encoding="utf-8")
    odd = tmp_path / "not-a-package"
    odd.mkdir()
    (odd / "__init__.py").write_text("", encoding="utf-8")
    (odd / "tool.py").write_text("", encoding="utf-8")
    assert module_name(src / "models.py") == ("app.db.models", False)
    assert module_name(src / "__init__.py") == ("app.db", True)
    assert module_name(tmp_path / "script.py") == ("script", False)
    assert module_name(odd / "tool.py") == ("tool", False)


def test_a_folder_without_init_inside_a_package_is_a_namespace_portion(tmp_path: Path) -> None:
    # pkg/llms/azure/azure.py with no pkg/llms/azure/__init__.py is pkg.llms.azure.azure, not a
    # top-level "azure" that `import azure` (the third-party package) would bind to.
    portion = tmp_path / "pkg" / "llms" / "azure"
    portion.mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "pkg" / "llms" / "__init__.py").write_text("", encoding="utf-8")
    (portion / "azure.py").write_text("", encoding="utf-8")
    assert module_name(portion / "azure.py") == ("pkg.llms.azure.azure", False)
    deeper = tmp_path / "pkg" / "types" / "llms"
    deeper.mkdir(parents=True)
    (deeper / "mcp.py").write_text("", encoding="utf-8")
    assert module_name(deeper / "mcp.py") == ("pkg.types.llms.mcp", False)
    # Folders without an __init__.py that no package holds are not one.
    loose = tmp_path / "scripts" / "tools"
    loose.mkdir(parents=True)
    (loose / "run.py").write_text("", encoding="utf-8")
    assert module_name(loose / "run.py") == ("run", False)


def test_an_import_of_a_third_party_package_is_not_bound_to_a_namespace_portion(
    tmp_path: Path,
) -> None:
    (tmp_path / "pkg" / "llms" / "azure").mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "pkg" / "llms" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "pkg" / "llms" / "azure" / "azure.py").write_text(
        'TOKENS = open("tokens.json").read()\n', encoding="utf-8"
    )
    (tmp_path / "pkg" / "cache.py").write_text(
        "async def credential():\n    from azure.identity import DefaultAzureCredential\n"
        "    return DefaultAzureCredential\n",
        encoding="utf-8",
    )
    assert check([tmp_path], config=Config(root=tmp_path), jobs=1, use_cache=False).findings == ()
    # The project's own module, imported by its real name, still loads on a first call.
    (tmp_path / "pkg" / "cache.py").write_text(
        "async def credential():\n    from pkg.llms.azure.azure import TOKENS\n    return TOKENS\n",
        encoding="utf-8",
    )
    [found] = check([tmp_path], config=Config(root=tmp_path), jobs=1, use_cache=False).findings
    assert (found.location.line, found.code, found.reason) == (2, "UNS110", "first import")


def test_an_expression_too_deep_to_walk_keeps_the_rest_of_the_file() -> None:
    deep = "x = a" + ".b()" * 900
    files = {"app": f"import time\n\ndef f():\n    {deep}\n\nasync def g():\n    time.sleep(1)\n"}
    assert run(files) == [("app.py", 7, "UNS101")]


def test_chain_steps_name_constructors_properties_and_imports() -> None:
    files = {
        "app.__init__": "",
        "app.heavy": "DATA = open('data.json').read()\n",
        "app.models": (
            "import time\n\n"
            "class Repo:\n"
            "    def __init__(self):\n        time.sleep(1)\n\n"
            "    @property\n    def size(self):\n        return len(open('x').read())\n"
        ),
        "app.handlers": (
            "from app.models import Repo\n\n"
            "async def build():\n    return Repo()\n\n"
            "async def size(repo: Repo):\n    return repo.size\n\n"
            "async def lazy():\n    import app.heavy\n"
        ),
    }
    found = analyze(summaries(files), catalog=default_catalog())
    chains = {f.function: [step.name for step in f.chain] for f in found}
    assert chains == {
        "app.handlers.build": ["Repo.__init__", "time.sleep"],
        "app.handlers.size": ["Repo.size", "open"],
        "app.handlers.lazy": ["import app.heavy", "open"],
    }
    lazy = next(f for f in found if f.function == "app.handlers.lazy")
    assert lazy.chain[0].location == Location("app/heavy.py", 1, 0)
    assert lazy.location.line == 10
    assert all(f.edits == () for f in found)


def test_critical_sections_in_helpers_are_not_reported_but_direct_ones_are() -> None:
    files = {
        "app": (
            "import threading\n\n"
            "LOCK = threading.Lock()\n\n"
            "def bump():\n    with LOCK:\n        pass\n\n"
            "def wait():\n    LOCK.acquire()\n\n"
            "async def handler():\n    bump()\n    wait()\n    with LOCK:\n        pass\n"
        )
    }
    assert run(files) == [("app.py", 14, "UNS108"), ("app.py", 15, "UNS108")]


def test_an_ascii_terminal_gets_escapes_not_a_crash(project: Project) -> None:
    root = project({"app/__init__.py": "", "app/config.py": CONFIG, "app/handlers.py": HANDLERS})
    completed = subprocess.run(
        [sys.executable, "-m", "unstall", "check", "--no-cache", "."],
        cwd=root,
        capture_output=True,
        check=False,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "ascii", "NO_COLOR": "1"},
    )
    assert completed.returncode == 1, completed.stderr
    assert b"`load_config` \\u2192 `read_file`" in completed.stdout


def test_allow_covers_everything_below_a_name() -> None:
    files = {
        "app.legacy": "import time\n\ndef old():\n    time.sleep(1)\n\nasync def h():\n    old()\n",
        "app.new": "import requests\n\nasync def h():\n    requests.get('u')\n",
    }
    assert run(files) == [("app/legacy.py", 7, "UNS101"), ("app/new.py", 4, "UNS103")]
    assert run(files, allow=("app.legacy",)) == [("app/new.py", 4, "UNS103")]
    assert run(files, allow=("requests",)) == [("app/legacy.py", 7, "UNS101")]


def test_fix_text_with_braces_in_the_source_is_put_in_once() -> None:
    files = {
        "app": 'import requests\n\nasync def h(d):\n    d["{args}"] = requests.get("{func}")\n'
    }
    (finding,) = analyze(summaries(files), catalog=default_catalog())
    assert finding.edits[-1].text == 'await asyncio.to_thread(requests.get, "{func}")'


def test_no_await_is_put_in_a_generator_expression() -> None:
    files = {
        "app": (
            "import time\n\nasync def h(items):\n"
            "    print(any(print(time.sleep(1)) for _ in items))\n"
            "    print(sorted(print(x) for x in print(time.sleep(2))))\n"
        )
    }
    found = sorted(
        analyze(summaries(files), catalog=default_catalog()), key=lambda f: f.location.line
    )
    assert [(f.location.line, bool(f.edits), f.fix_safe) for f in found] == [
        (4, False, False),
        (5, True, True),
    ]


def test_a_lazy_import_finding_says_to_import_at_start_up() -> None:
    files = {
        "app.__init__": "",
        "app.heavy": "DATA = open('data.json').read()\n",
        "app.handlers": "async def lazy():\n    from . import heavy\n    return heavy.DATA\n",
    }
    (finding,) = analyze(summaries(files), catalog=default_catalog())
    assert finding.fix is not None
    assert finding.fix.startswith(
        "import `app.heavy` at the top of the module, so its code runs at start-up; "
        "or, in the top-level code of `app.heavy`, replace `open`: "
    )
    assert finding.edits == ()
