"""The project-wide analysis: which ``async def`` can reach a blocking call, and through what.

Works only over module summaries. From every ``async def`` it explores, through sync
functions, methods, constructors, properties, consumed generators, decorators and imports,
the code that runs on the event loop's thread; then a breadth-first walk backwards from the
calls the catalog knows to block gives every reached sync function its shortest chain to one.
Each call (or property read, or import) in an ``async def`` that reaches one is a finding,
reported with the whole chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from unstall.catalog import Catalog, Entry
from unstall.check._graph import AnalysisSettings, CallGraph, Node, Step
from unstall.check._model import ChainStep, Finding, Location
from unstall.check._suggest import fix_for
from unstall.check._summary_types import (
    AWAITED,
    CALL,
    CONSUMED,
    MODULE_CODE,
    ModuleSummary,
    Use,
)

__all__ = ("AnalysisSettings", "analyze")


def _short(entry: Entry) -> str:
    name = entry.name
    return name.removeprefix("builtins.")


def _use_location(path: str, use: Use) -> Location:
    return Location(path, use.line, use.col, use.end_line, use.end_col)


def _step_name(analysis: CallGraph, node: Node) -> str:
    if node.key == MODULE_CODE:
        return f"import {analysis.project.summaries[node.summary].module}"
    return node.key


def analyze(
    summaries: Sequence[ModuleSummary],
    *,
    catalog: Catalog,
    settings: AnalysisSettings | None = None,
) -> list[Finding]:
    """Every place where an ``async def`` of the project can reach a blocking call, as findings."""
    settings = settings or AnalysisSettings()
    analysis = CallGraph(summaries, catalog, settings)
    project = analysis.project
    roots: list[Node] = []
    for index, functions in enumerate(project.functions):
        for key, info in functions.items():
            if info.is_async and not analysis.allowed(project.qualified(index, key)):
                roots.append(Node(index, key))
    analysis.explore(roots)
    chains = analysis.chains()
    findings: list[Finding] = []
    for root in roots:
        findings.extend(_root_findings(analysis, root, chains))
    return findings


def _chain(
    analysis: CallGraph, target: Node, chains: dict[Node, Step]
) -> tuple[list[ChainStep], list[str], Entry] | None:
    """The steps from ``target`` to its blocking call: each function where it is defined, then the call."""
    project = analysis.project
    steps: list[ChainStep] = []
    names: list[str] = []
    node = target
    for _ in range(len(chains) + 1):
        info = analysis.info(node)
        where = project.summaries[node.summary].path
        name = _step_name(analysis, node)
        steps.append(ChainStep(name, Location(where, max(info.line, 1), info.col)))
        names.append(name)
        use_index, following = chains[node]
        if isinstance(following, Entry):
            steps.append(ChainStep(_short(following), _use_location(where, info.uses[use_index])))
            names.append(_short(following))
            return steps, names, following
        node = following
    return None


def _root_findings(analysis: CallGraph, root: Node, chains: dict[Node, Step]) -> Iterable[Finding]:
    project = analysis.project
    summary = project.summaries[root.summary]
    info = analysis.info(root)
    offloaded = analysis.offloaded(root)
    function = project.qualified(*root)
    # One place in the source is one finding, even when several uses share it (``from m
    # import a, b``; a ``with`` statement's ``__enter__`` and ``__exit__``).
    reported: set[tuple[int, int, int, int]] = set()
    # Nested calls start at one column (``get().engine()``): one finding per position and code.
    positions: set[tuple[int, int, str]] = set()
    for index, use in enumerate(info.uses):
        span = (use.line, use.col, use.end_line, use.end_col)
        if offloaded[index] or span in reported:
            continue
        location = _use_location(summary.path, use)
        entry = analysis.blocking_entry(use)
        if entry is not None:
            title = analysis.catalog.kind_info(entry.kind).title
            chain = (ChainStep(_short(entry), location),)
            if use.flags & AWAITED:
                code = "UNS201"
                message = (
                    f"`{root.key}` awaits the result of `{_short(entry)}`, a {title}: the call "
                    "runs and blocks the event loop before `await` sees its result."
                )
            else:
                code = entry.code
                message = f"`{root.key}` can block the event loop: `{_short(entry)}` ({title})."
            fix, edits, safe = fix_for(summary, use, entry, uses=info.uses, direct=True)
            reported.add(span)
            if (use.line, use.col, code) in positions:
                continue
            positions.add((use.line, use.col, code))
            yield Finding(code, message, location, function, entry.name, chain, fix, edits, safe)
            continue
        for target in analysis.targets(use, root):
            found = _chain(analysis, target, chains) if target in chains else None
            if found is None:
                continue
            steps, names, final = found
            title = analysis.catalog.kind_info(final.kind).title
            message = (
                f"`{root.key}` can block the event loop: "
                + " → ".join(f"`{name}`" for name in names)
                + f" ({title})."
            )
            fix, edits, safe = fix_for(
                summary,
                use,
                final,
                uses=info.uses,
                direct=False,
                callee=names[0],
                inner=names[-2],
                plain_call=use.kind == CALL
                and target.key != MODULE_CODE
                and not _is_constructor(target.key, use),
            )
            reported.add(span)
            if (use.line, use.col, final.code) in positions:
                break
            positions.add((use.line, use.col, final.code))
            yield Finding(
                final.code, message, location, function, final.name, tuple(steps), fix, edits, safe
            )
            break


def _is_constructor(key: str, use: Use) -> bool:
    # A call that reached ``__init__`` was a class instantiation: offloading it changes nothing useful.
    return (
        key.endswith(("__init__", "__post_init__"))
        or bool(use.flags & CONSUMED)
        or use.kind != CALL
    )
