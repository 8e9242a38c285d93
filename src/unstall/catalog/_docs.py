"""The rule reference (``docs/rules.md``), rendered from the catalog: What / Why / Example / Use instead per rule."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from unstall.catalog._load import Catalog
from unstall.catalog._model import Boundary, BoundaryKind, Entry, Rule

__all__ = ("fixed_example", "render_rules_markdown")

TABLE_PATH = "src/unstall/catalog/blocking.toml"
REGENERATE = "python scripts/gen_rules_doc.py"


def _call_parts(line: str) -> tuple[str, str] | None:
    try:
        tree = ast.parse(line.strip())
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return None
    call = tree.body[0].value
    if not isinstance(call, ast.Call):
        return None
    text = line.strip()
    func = ast.get_source_segment(text, call.func) or ""
    start = len(func) + 1
    return func, text[start : text.rindex(")")]


def fixed_example(entry: Entry) -> str | None:
    """The entry's example module with its fix applied to the last line, or ``None`` when there is no fix."""
    source = entry.example_module()
    if entry.fix is None or source is None:
        return None
    imports, body = entry.example_split()
    parts = _call_parts(body[-1])
    if parts is None:
        return None
    fixed = entry.render_fix(*parts)
    assert fixed is not None
    lines = [*imports]
    if "asyncio." in fixed and "import asyncio" not in lines:
        lines = sorted([*lines, "import asyncio"], key=lambda line: line.split()[1])
    fixed_entry_body = [*body[:-1], fixed]
    head = "\n".join(lines) + "\n\n\n" if lines else ""
    inner = "\n".join("    " + line for line in fixed_entry_body)
    return f"{head}async def handler():\n{inner}\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code_cell(text: str) -> str:
    return "`" + text.replace("|", "\\|") + "`"


def _entry_row(entry: Entry) -> str:
    name = _code_cell(entry.name)
    notes = []
    if entry.aliases:
        notes.append("also " + ", ".join(_code_cell(alias) for alias in entry.aliases))
    if entry.nonblocking:
        notes.append("not with " + ", ".join(_code_cell(str(item)) for item in entry.nonblocking))
    if notes:
        name += "<br><sub>" + "; ".join(notes) + "</sub>"
    why = _cell(entry.why)
    instead = _cell(entry.alternative)
    if entry.fix:
        instead += "<br><sub>fix: " + _code_cell(entry.fix) + "</sub>"
    return f"| {name} | {why} | {instead} |"


def _section_for_kind(catalog: Catalog, entries: Iterable[Entry], code: str) -> list[str]:
    chosen = [entry for entry in entries if entry.code == code]
    info = next(info for info in catalog.kinds.values() if info.code == code)
    example = chosen[0] if chosen else None
    offload = (
        "a process pool (`loop.run_in_executor` with a `ProcessPoolExecutor`): threads do not help "
        "code that holds the GIL"
        if info.offload.value == "process"
        else "a thread: `await asyncio.to_thread(func, *args)`"
    )
    out = [
        f"## {code}",
        "",
        f"**{info.title}** (`blocking-{info.kind.value}`, kind `{info.kind.value}`)",
        "",
        "### What it flags",
        "",
        f"A call to one of the {len(chosen)} callables listed below ({info.title}), made inside an "
        "`async def` or in a sync function that an `async def` calls, in any module of the project.",
        "",
        "### Why is this bad?",
        "",
        info.why,
        "",
    ]
    if example is not None and example.example_module():
        out += ["### Example", "", "```python", str(example.example_module()).rstrip(), "```", ""]
    out += [
        "### Use instead",
        "",
        f"The async-native API named for each callable below. Where there is none, move the call off "
        f"the event loop to {offload}.",
        "",
    ]
    if example is not None:
        fixed = fixed_example(example)
        if fixed is not None:
            out += ["```python", fixed.rstrip(), "```", ""]
        else:
            out += [f"For `{example.name}`: {example.alternative}.", ""]
    if info.equivalents:
        codes = ", ".join(f"`{code}`" for code in info.equivalents)
        out += [
            "### Suppressing",
            "",
            f"`# noqa: {info.code}` on the line; `# noqa` comments written for flake8-async or ruff "
            f"with {codes} suppress it as well.",
            "",
        ]
    if info.not_flagged:
        out += ["### Not flagged on purpose", "", info.not_flagged, ""]
    out += [
        f"### Callables ({len(chosen)})",
        "",
        "| Callable | Why it blocks | Use instead |",
        "|---|---|---|",
        *(_entry_row(entry) for entry in chosen),
        "",
    ]
    return out


def _section_for_rule(rule: Rule, entries: Iterable[Entry] = ()) -> list[str]:
    language = "python"
    chosen = [entry for entry in entries if entry.code == rule.code]
    table = (
        [
            f"### Callables ({len(chosen)})",
            "",
            "| Callable | Why it is flagged | Use instead |",
            "|---|---|---|",
            *(_entry_row(entry) for entry in chosen),
            "",
        ]
        if chosen
        else []
    )
    return [
        f"## {rule.code}",
        "",
        f"**{rule.title}** (`{rule.name}`)",
        "",
        "### What it flags",
        "",
        rule.flags,
        "",
        "### Why is this bad?",
        "",
        rule.why,
        "",
        "### Example",
        "",
        f"```{language}",
        rule.example.rstrip(),
        "```",
        "",
        "### Use instead",
        "",
        rule.instead,
        "",
        *_suppressing(rule.code, rule.equivalents),
        *table,
    ]


def _suppressing(code: str, equivalents: tuple[str, ...]) -> list[str]:
    if not equivalents:
        return []
    codes = ", ".join(f"`{item}`" for item in equivalents)
    return [
        "### Suppressing",
        "",
        f"`# noqa: {code}` on the line; `# noqa` comments written for ruff with {codes} "
        "suppress it as well.",
        "",
    ]


_BOUNDARY_TITLES = {
    BoundaryKind.OFFLOAD: "Offload calls: what is passed to them does not run on the loop",
    BoundaryKind.PARTIAL: "Partials: the wrapped callable runs wherever the partial is called",
    BoundaryKind.THREADPOOL_DECORATOR: "Thread-pool decorators: the decorated function runs in a thread",
    BoundaryKind.CONTEXT_MANAGER: "Context-manager decorators: `with` runs the generator up to its yield",
    BoundaryKind.MEMOIZE: "Memo decorators: only a first call does the work (findings say *first call only*)",
    BoundaryKind.LIFECYCLE_DECORATOR: "Start-up and shutdown decorators: what they mark is in the start-up tier",
    BoundaryKind.LIFECYCLE_REGISTRATION: "Start-up and shutdown registrations: what is passed to them is in the start-up tier",
    BoundaryKind.LIFECYCLE_METHOD: "Start-up and shutdown methods, by name",
    BoundaryKind.START_METHOD: "Start and stop methods, by name: once per object unless called while serving",
    BoundaryKind.LOOP_ENTRY: "Loop entries: the coroutine they run is start-up code outside its loops",
    BoundaryKind.MAIN_REGISTRATION: "Main registrations: what is passed to them runs once, like the coroutine a loop runs",
    BoundaryKind.CONSTRUCTION_DECORATOR: "Construction decorators: what they mark runs while an object is built, like `__init__`",
    BoundaryKind.COMMAND_DECORATOR: "Command-line command decorators: what they mark runs once per invocation unless called while serving",
}


def _section_for_boundaries(boundaries: Iterable[Boundary]) -> list[str]:
    rows = list(boundaries)
    out = [
        "## Boundaries",
        "",
        "What the analysis knows about where code handed to a callable runs. Add offload helpers "
        "and thread-pool decorators of your own framework with `offload-helpers` and "
        "`threadpool-decorators` in `[tool.unstall]`; `unstall rules --boundaries` lists them with "
        "these.",
        "",
    ]
    for kind, title in _BOUNDARY_TITLES.items():
        chosen = [row for row in rows if row.kind is kind]
        if not chosen:
            continue
        out += [f"### {title}", "", "| Callable | What it does |", "|---|---|"]
        for row in chosen:
            name = _code_cell(row.name)
            if row.method:
                name += (
                    "<br><sub>also `."
                    + row.name.rpartition(".")[2]
                    + "(...)` on any receiver</sub>"
                )
            out.append(f"| {name} | {_cell(row.why)} |")
        out.append("")
    return out


_FREQUENCY_SECTION = (
    "## How often a finding blocks: labels and tiers",
    "",
    "Every finding says how often its blocking call runs while the program serves, and is in one "
    "of five tiers. `--frequency` (or `frequency = [...]` in `[tool.unstall]`) picks the tiers "
    "reported; the default is `every` and `first`. The others are counted in the summary line "
    "and in `--statistics` (`N more in tiers not shown`), and `--frequency all` shows them. The "
    "JSON report has `frequency` and `reason` on each finding, SARIF the same as properties.",
    "",
    "| Tier | Label in the report | When | Reported by default |",
    "|---|---|---|---|",
    "| `every` | (none) | Each time the `async def` runs: per request, message, connection or call. | yes |",
    "| `first` | *first call only: `functools.cache`* (the reason) | Once per process, on a first "
    "call: a memoized callee (`functools.cache`, `lru_cache`, `cached_property`, cachetools, toolz), "
    "lazy set-up (`if x is None: x = ...`, `if k not in d: d[k] = ...`, a cache-aside "
    "`v = cache.get(k)` / `if v: return v` / `cache.set(k, new)`), a first run-time import "
    "(`UNS110`), or a catalog entry that caches its own result (`tempfile.gettempdir`). The first "
    "request still pays it. What the object's constructor (its `__init__`, or a pydantic "
    "validator a construction decorator below marks) or a finding earlier in the same `async def` "
    "already filled is warm: not reported again. | yes |",
    "| `startup` | *start-up/shutdown only: lifespan handler* (the reason) | Only reached from code "
    "that runs while the process starts or stops: ASGI lifespan handlers, framework start/stop "
    "hooks and listeners (the start-up boundaries below), server `startup`/`shutdown` methods, "
    "an object's start or stop method (the start-method boundaries below: `start`, `stop`, "
    "`initialize`, `login`, `launch`, `aclose`, `disconnect`, and any method whose name starts "
    "with one of those words, `_start_session`, `launch_browser`), or "
    "a command-line command (one a command decorator below marks, `@app.command()` of typer, "
    "click or cyclopts, a click group's `@group.command()`, or an `async def` of a "
    "command-line module: `cli.py`, `cli/__init__.py`, `__main__.py`), that the project never "
    "calls from code that serves (outside its loops), the coroutine given to `asyncio.run` "
    '(also under `if __name__ == "__main__":`) or tornado\'s `run_sync` outside its loops, '
    "and the `lifecycle-roots` your project declares. | no |",
    "| `test` | *test code: a test runner drives it* | The `async def` is in test code: a `tests`, "
    "`test` or `testing` folder, `test_*.py`, `*_test.py`, `testing.py`, `pytest_plugin.py` or a package's `pytest.py` (a "
    "library's helpers and fixtures for its users' tests) or `conftest.py`. A test runner runs it one test at a time, not a serving "
    "program. | no |",
    "| `example` | *example code: people run it by hand* | The `async def` is in example or demo "
    "code: an `examples`, `example`, `demos`, `demo`, `samples`, `sample`, `docs`, `docs_src`, "
    "`tutorial`, `tutorials`, `cookbook`, `template` or `templates` (project scaffolds) folder "
    "below the folder that holds everything checked "
    "(so `unstall check examples/shop` checks that example as a project of its own), or a "
    "folder inside a package whose name no import can spell (`snippet-files`: data the package "
    "ships, such as templates a command copies into users' projects). | no |",
    "",
    "Not reported at all, because they cannot block: a memoized function that module-level code "
    "already calls with the same constant arguments (every call from async code is a cache hit), "
    "a run-time `import` of a module the importing module's own imports already loaded, or that "
    "every project module importing the calling `async def`'s module loads at its top level (an "
    "application module that imports its routes), or of the program's entry module that loads "
    "the importer (an import deferred to break a cycle), taking a `threading.Lock` / `RLock` "
    "whose every `with` section in the project runs only in-memory work (no blocking call, and "
    "no bare `acquire()` anywhere), a branch "
    "that a constant argument (a literal or a default) or a module flag bound once to `True` or "
    "`False` (`_IS_SYNC = False`) rules out (the right operand of an `and` / `or` included, "
    "which runs only as its left operands decide), a branch that runs only when no event loop "
    "is running in the thread (the `except RuntimeError:` of `asyncio.get_running_loop()`, `if "
    "not loop.is_running():`, `if asyncio._get_running_loop() is None:`: code that serves both "
    "sync and async callers), the exit of a `with ThreadPoolExecutor() as pool:` block that "
    "awaited the work it gave the pool (`await loop.run_in_executor(pool, ...)`; a process "
    "pool's exit still waits for its processes), and a call whose catalog "
    "condition says it returns at once (`shutdown(wait=False)`, `put` on a `Queue()` made without "
    "`maxsize` (one handed in, to a constructor or a function, too, when every queue of its "
    "kind the project makes is made without one), `getaddrinfo` of a numeric host, "
    "`getnameinfo` with `NI_NUMERICHOST`, `connect` of a UDP socket), also when the value "
    "reaches the call through a parameter or a module global bound once above the function. When one call reaches several blocking calls, the "
    "most severe is reported (network and sleep before a file `stat`), with *+N more*; the JSON "
    "and SARIF reports list them all.",
    "",
)


def render_rules_markdown(catalog: Catalog) -> str:
    """The whole rule reference as Markdown: a summary table, then one section per rule code.

    Each section's anchor is the lower-case code (``#uns101``), which the reports link to.
    """
    extras = tuple(catalog.rules.values())
    kinds = sorted(catalog.kinds.values(), key=lambda info: info.code)
    out = [
        "# Rule reference",
        "",
        f"<!-- Do not edit by hand: run `{REGENERATE}` after changing `{TABLE_PATH}`. -->",
        "",
        "Every rule of `unstall check`, with what it flags, why it matters, an example and what to "
        "use instead. Rules `UNS101`-`UNS110` come from the catalog of known blocking callables "
        f"({len(catalog)} callables); `unstall rules` prints the same table, including the entries "
        "your project adds in `pyproject.toml`.",
        "",
        "| Code | Name | What | Callables |",
        "|---|---|---|---|",
    ]
    for info in kinds:
        count = sum(1 for entry in catalog if entry.code == info.code)
        out.append(
            f"| [{info.code}](#{info.code.lower()}) | `blocking-{info.kind.value}` | {info.title} | {count} |"
        )
    out.extend(
        f"| [{rule.code}](#{rule.code.lower()}) | `{rule.name}` | {rule.title} | |"
        for rule in extras
    )
    out += [
        "",
        "Suppress one finding with `# noqa: UNS101` or `# unstall: ignore[UNS101]` on its line; choose "
        "rules with `select` / `ignore` in `[tool.unstall]`.",
        "",
        *_FREQUENCY_SECTION,
    ]
    for info in kinds:
        out += _section_for_kind(catalog, catalog.entries, info.code)
    for rule in extras:
        out += _section_for_rule(rule, catalog.entries)
    out += _section_for_boundaries(catalog.boundaries)
    out += [
        "## Adding your own blocking callables",
        "",
        "List them in `pyproject.toml`; they take the rule code of their kind, and an entry with the "
        "name (or alias) of a built-in one replaces it:",
        "",
        "```toml",
        "[[tool.unstall.blocking]]",
        'name = "mylib.client.fetch"          # the qualified name, as imported',
        'kind = "network"                     # ' + ", ".join(info.kind.value for info in kinds),
        'why = "Waits for the upstream service."',
        'alternative = "mylib.aio.fetch"',
        'aliases = ["mylib.fetch"]            # optional: other names of the same callable',
        'nonblocking = ["wait=False"]         # optional: arguments that make it return at once',
        'returns = "mylib.client.Page"        # optional: the type of its result, to follow it',
        'fix = "await asyncio.to_thread({func}, {args})"  # optional: a mechanical rewrite',
        "```",
        "",
    ]
    return "\n".join(out)
