"""The rule reference (``docs/rules.md``), rendered from the catalog: What / Why / Example / Use instead per rule."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass

from unstall.catalog._load import Catalog
from unstall.catalog._model import Entry

__all__ = ("ExtraRule", "extra_rules", "fixed_example", "render_rules_markdown")

DOC_PATH = "docs/rules.md"
TABLE_PATH = "src/unstall/catalog/blocking.toml"
REGENERATE = "python scripts/gen_rules_doc.py"


@dataclass(frozen=True, slots=True)
class ExtraRule:
    """A rule that is not a catalog kind (UNS201, UNS9xx): its code, title, why and the docs' texts."""

    code: str
    title: str
    why: str
    flags: str
    example: str
    instead: str


# What each non-catalog rule flags, an example, and what to do instead; titles and "why" come
# from the check's rule descriptions so the reports and this reference say the same thing.
_EXTRA_TEXT: dict[str, tuple[str, str, str]] = {
    "UNS201": (
        "`await` applied to the result of a known blocking call, such as `await requests.get(url)`.",
        'import requests\n\n\nasync def handler():\n    await requests.get("http://127.0.0.1:8000/")\n',
        "Call the async-native API the blocking call's own rule names (`await client.get(url)` with "
        "`httpx.AsyncClient`), or offload the call itself: `await asyncio.to_thread(requests.get, url)`.",
    ),
    "UNS901": (
        "A Python file that does not parse; the finding carries the parser's message and position.",
        "def broken(:\n    pass\n",
        "Fix the syntax error, or leave the file out with `exclude` in `[tool.unstall]`.",
    ),
    "UNS902": (
        "A file whose bytes are not valid in its declared encoding (UTF-8 when it declares none).",
        "# a file saved as Latin-1 without a coding declaration\nNAME = 'caf\\xe9'\n",
        "Save the file as UTF-8, or declare its encoding on the first two lines (`# -*- coding: latin-1 -*-`).",
    ),
    "UNS903": (
        "A file named like Python source that contains NUL bytes (a binary file).",
        "# any .py file containing a NUL (\\x00) byte\n",
        "Rename the file, or leave it out with `exclude` in `[tool.unstall]`.",
    ),
    "UNS904": (
        "A file larger than `max-file-size` (5 MiB by default), which is skipped.",
        "# generated_tables.py: 40 MB of literal data\n",
        "Raise `max-file-size` in `[tool.unstall]`, or leave generated files out with `exclude`.",
    ),
    "UNS905": (
        "A path that cannot be read as a file: a broken symbolic link, a special file, or no permission.",
        "# link.py -> missing.py (a symbolic link whose target is gone)\n",
        "Fix the link or the permissions, or leave the path out with `exclude` in `[tool.unstall]`.",
    ),
}


def extra_rules(catalog: Catalog) -> tuple[ExtraRule, ...]:
    """UNS201 and the UNS9xx file problems, with the same titles and reasons ``unstall check`` reports."""
    from unstall.check._rules_info import rule_infos

    infos = rule_infos(catalog)
    rules = []
    for code, (flags, example, instead) in _EXTRA_TEXT.items():
        info = infos.get(code)
        if info is None:  # a code the check no longer reports: leave it out of the reference
            continue
        rules.append(ExtraRule(code, info.title, info.why, flags, example, instead))
    return tuple(rules)


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
        notes.append("not with " + ", ".join(_code_cell(item) for item in entry.nonblocking))
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
    out += [
        f"### Callables ({len(chosen)})",
        "",
        "| Callable | Why it blocks | Use instead |",
        "|---|---|---|",
        *(_entry_row(entry) for entry in chosen),
        "",
    ]
    return out


def _section_for_extra(rule: ExtraRule) -> list[str]:
    language = "python"
    return [
        f"## {rule.code}",
        "",
        f"**{rule.title}** (`{rule.title.replace(' ', '-')}`)",
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
    ]


def render_rules_markdown(catalog: Catalog) -> str:
    """The whole rule reference as Markdown: a summary table, then one section per rule code.

    Each section's anchor is the lower-case code (``#uns101``), which the reports link to.
    """
    extras = extra_rules(catalog)
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
        f"| [{rule.code}](#{rule.code.lower()}) | `{rule.title.replace(' ', '-')}` | {rule.title} | |"
        for rule in extras
    )
    out += [
        "",
        "Suppress one finding with `# noqa: UNS101` or `# unstall: ignore[UNS101]` on its line; choose "
        "rules with `select` / `ignore` in `[tool.unstall]`.",
        "",
    ]
    for info in kinds:
        out += _section_for_kind(catalog, catalog.entries, info.code)
    for rule in extras:
        out += _section_for_extra(rule)
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
