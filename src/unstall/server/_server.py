"""``unstall server``: the Language Server Protocol over standard input and output (built on pygls).

The event loop only bookkeeps: it takes the client's messages, keeps the documents' text
(pygls' workspace) and publishes. Checks run on one worker thread, one at a time, so a
check of a large project never keeps the loop from reading the next edit: an edit asks for
a check after a short quiet time (``debounce``), an open or a save at once, and whatever
arrives during a check is checked next, together.

A check covers every project that holds a document asked for (or a file changed on disk):
all its open documents are checked with their unsaved text (see ``_projects``), and each
one whose findings changed is published again, so fixing a helper in one module clears
the finding in the module that calls it. A change of a ``pyproject.toml`` or
``unstall.toml`` (saved, or seen through ``workspace/didChangeWatchedFiles``, which the
server registers for when the client lets it) reloads the settings.

No exception leaves a handler: what goes wrong is logged to the client
(``window/logMessage``) and the server goes on.
"""

from __future__ import annotations

import asyncio
import os
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, NamedTuple

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from unstall import __version__
from unstall.catalog import default_catalog
from unstall.check._rules_info import RuleInfo, rule_infos
from unstall.errors import UnstallError
from unstall.server._diagnostics import FIX_ALL, SOURCE, Report, code_actions, reports
from unstall.server._projects import Buffer, Projects, contains
from unstall.server._schedule import Debouncer
from unstall.server._text import UTF16

__all__ = ("CONFIG_FILES", "ServerOptions", "Session", "build_server")

#: Files whose change reloads the settings.
CONFIG_FILES = ("pyproject.toml", "unstall.toml")
# The key that asks for every project, with the settings read afresh.
_RELOAD = ""
_WATCHERS = ("**/pyproject.toml", "**/unstall.toml", "**/.gitignore", "**/*.py")


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """How the server checks: ``debounce`` seconds of quiet after an edit before checking,
    ``jobs`` worker processes for a first, cold check (None: the usable cores), and whether
    the summary cache on disk is read and written at shutdown (it is kept in memory anyway)."""

    debounce: float = 0.1
    jobs: int | None = None
    use_cache: bool = True


class _Log(NamedTuple):
    kind: types.MessageType
    text: str


@dataclass(slots=True)
class _Outcome:
    """What a check on the worker thread hands back to the loop."""

    reports: list[Report] = field(default_factory=list)
    logs: list[_Log] = field(default_factory=list)


def _is_python(path: str, language: str | None) -> bool:
    return path.endswith(".py") or (language == "python" and not path.endswith(".pyi"))


class Session:
    """The state of one connection: open documents, what was published, and the checks."""

    def __init__(self, server: LanguageServer, options: ServerOptions) -> None:
        self.server = server
        self.options = options
        self.projects = Projects(jobs=options.jobs, use_cache=options.use_cache)
        self.infos: Mapping[str, RuleInfo] = rule_infos(default_catalog())
        # Open Python documents: URI -> path as the client named it.
        self.open: dict[str, str] = {}
        self.published: dict[str, Report] = {}
        self.shutdown_requested = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="unstall-check")
        self._debouncer: Debouncer[str] = Debouncer(self._check, self.report_crash)

    # -- messages to the client -----------------------------------------------------------------

    def log(self, kind: types.MessageType, text: str) -> None:
        """Send ``text`` to the client's log (never raises: the connection may be gone)."""
        try:
            self.server.window_log_message(types.LogMessageParams(kind, text))
        except Exception:
            return

    def report_crash(self, exc: BaseException) -> None:
        """Log an unexpected exception to the client, with its traceback."""
        detail = "".join(traceback.format_exception(exc)).rstrip()
        self.log(
            types.MessageType.Error,
            f"unstall: internal error ({type(exc).__name__}: {exc}); please report this as a bug in unstall.\n{detail}",
        )

    # -- what the client can do -----------------------------------------------------------------

    @property
    def encoding(self) -> str:
        """The position encoding agreed with the client (UTF-16 unless it offered another)."""
        chosen = self.server.workspace.position_encoding
        return str(getattr(chosen, "value", chosen) or UTF16)

    def _capability(self, *names: str) -> Any:
        value: Any = self.server.client_capabilities
        for name in names:
            value = getattr(value, name, None)
            if value is None:
                return None
        return value

    # -- handlers -------------------------------------------------------------------------------

    def initialized(self, params: types.InitializedParams) -> None:
        """Ask to be told of changed configuration and source files on disk, if the client lets us."""
        if not self._capability("workspace", "did_change_watched_files", "dynamic_registration"):
            return
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern=glob) for glob in _WATCHERS]
        )
        registration = types.Registration(
            id="unstall-watched-files",
            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=options,
        )
        self.server.client_register_capability(types.RegistrationParams([registration]))

    def did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        """Check a Python document at once (others, and non-file URIs, are not ours)."""
        document = params.text_document
        path = to_fs_path(document.uri)
        if path is None or not _is_python(path, document.language_id):
            return
        self.open[document.uri] = path
        self._debouncer.request(path)

    def did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        """Check the edited document's project after the quiet time."""
        path = self.open.get(params.text_document.uri)
        if path is not None:
            self._debouncer.request(path, self.options.debounce)

    def did_save(self, params: types.DidSaveTextDocumentParams) -> None:
        """Check at once; a saved configuration file reloads the settings of every project."""
        uri = params.text_document.uri
        path = self.open.get(uri) or to_fs_path(uri)
        if path is None:
            return
        if os.path.basename(path) in CONFIG_FILES:
            self._debouncer.request(_RELOAD)
        elif uri in self.open or path.endswith(".py"):
            self._debouncer.request(path)

    def did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        """Clear the document's diagnostics and check its project with the file on disk."""
        uri = params.text_document.uri
        path = self.open.pop(uri, None)
        if path is None:
            return
        if self.published.pop(uri, None) is not None:
            self._publish(uri, [], None)
        # The file on disk stands for it again: what the other documents reach may change.
        self._debouncer.request(path)

    def did_change_watched_files(self, params: types.DidChangeWatchedFilesParams) -> None:
        """Files changed on disk: a configuration reloads the settings, a source or
        ``.gitignore`` re-checks the projects holding it."""
        for change in params.changes:
            path = to_fs_path(change.uri)
            if path is None:
                continue
            name = os.path.basename(path)
            if name in CONFIG_FILES:
                self._debouncer.request(_RELOAD, self.options.debounce)
            elif name == ".gitignore" or name.endswith(".py"):
                self._debouncer.request(path, self.options.debounce)

    def code_action(self, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        """The fixes of the findings in the requested range, from the last check of this version."""
        uri = params.text_document.uri
        report = self.published.get(uri)
        if report is None or uri not in self.open:
            return None
        if self.server.workspace.get_text_document(uri).version != report.version:
            return None  # the document changed since it was checked: its fixes would not fit
        versioned = bool(self._capability("workspace", "workspace_edit", "document_changes"))
        return code_actions(
            report,
            params.range,
            params.context.only,
            encoding=self.encoding,
            versioned=versioned,
            versions=self._version,
        )

    async def shutdown(self, params: None) -> None:
        """Stop checking, then write the summary cache (after a check under way ends)."""
        self.shutdown_requested = True
        await self._debouncer.close()
        if self.options.use_cache:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._executor, self._save)

    def close(self) -> None:
        """Release the worker thread (waits for a check under way)."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    # -- checking -------------------------------------------------------------------------------

    def _version(self, uri: str) -> int | None:
        if uri not in self.open:
            return None
        return self.server.workspace.get_text_document(uri).version

    def _snapshot(self) -> list[Buffer]:
        buffers = []
        for uri, path in self.open.items():
            document = self.server.workspace.get_text_document(uri)
            buffers.append(Buffer(uri, path, document.source, document.version))
        return buffers

    async def _check(self, keys: set[str]) -> None:
        """Check what ``keys`` ask for on the worker thread, then publish what changed."""
        buffers = self._snapshot()
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        outcome = await loop.run_in_executor(
            self._executor, self._check_on_worker, keys, buffers, self.encoding
        )
        for entry in outcome.logs:
            self.log(entry.kind, entry.text)
        for report in outcome.reports:
            self._take(report)
        self.log(
            types.MessageType.Log,
            f"unstall: checked and published in {time.perf_counter() - started:.3f} s.",
        )

    def _take(self, report: Report) -> None:
        """Keep ``report`` and publish it, unless it is stale or shows nothing new."""
        uri = report.uri
        if uri not in self.open or self._version(uri) != report.version:
            return  # closed, or changed again since: a check of the new text is on its way
        previous = self.published.get(uri)
        self.published[uri] = report
        if (
            previous is not None
            and previous.version == report.version
            and previous.findings == report.findings
        ):
            return
        self._publish(uri, [item.diagnostic for item in report.items], report.version)

    def _publish(self, uri: str, diagnostics: list[types.Diagnostic], version: int | None) -> None:
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version)
        )

    def _save(self) -> None:
        try:
            self.projects.save()
        except Exception as exc:
            self.report_crash(exc)

    def _check_on_worker(self, keys: set[str], buffers: list[Buffer], encoding: str) -> _Outcome:
        """Check the projects ``keys`` point into (every project for a reload); runs on the worker thread."""
        outcome = _Outcome()
        try:
            self._check_projects(keys, buffers, encoding, outcome)
        except Exception as exc:
            detail = "".join(traceback.format_exception(exc)).rstrip()
            outcome.logs.append(
                _Log(
                    types.MessageType.Error,
                    f"unstall: the check failed ({type(exc).__name__}: {exc}); please report this as a bug in unstall.\n{detail}",
                )
            )
        return outcome

    def _check_projects(
        self, keys: set[str], buffers: list[Buffer], encoding: str, outcome: _Outcome
    ) -> None:
        reload = _RELOAD in keys
        if reload:
            self.projects.reload()
        wanted = {os.path.realpath(key) for key in keys if key != _RELOAD}
        groups: dict[str, list[Buffer]] = {}
        projects = {}
        for buffer in buffers:
            real = buffer._replace(path=os.path.realpath(buffer.path))
            try:
                project = self.projects.project_of(real.path)
            except UnstallError as exc:
                outcome.logs.append(_Log(types.MessageType.Error, f"unstall: {exc}"))
                continue
            key = str(project.folder) if project.folder is not None else "\0" + real.path
            projects[key] = project
            groups.setdefault(key, []).append(real)
        for key, members in groups.items():
            project = projects[key]
            if not (
                reload
                or any(member.path in wanted for member in members)
                or contains(project, wanted)
            ):
                continue
            try:
                checked = self.projects.check(project, members)
            except UnstallError as exc:
                outcome.logs.append(_Log(types.MessageType.Error, f"unstall: {exc}"))
                continue
            outcome.reports.extend(reports(checked, self.infos, encoding))
            stats = checked.result.stats
            outcome.logs.append(
                _Log(
                    types.MessageType.Log,
                    f"unstall: checked {project.folder or members[0].path}: {stats.files} files "
                    f"({stats.summarized} summarized) with {len(members)} open, "
                    f"in {checked.seconds:.3f} s ({checked.cpu_seconds:.3f} s CPU).",
                )
            )


def _guarded(session: Session, handler: Callable[..., Any]) -> Callable[..., Any]:
    """``handler``, with any exception logged to the client instead of raised."""

    if asyncio.iscoroutinefunction(handler):

        @wraps(handler)
        async def guarded_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await handler(*args, **kwargs)
            except Exception as exc:
                session.report_crash(exc)
                return None

        return guarded_async

    @wraps(handler)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except Exception as exc:
            session.report_crash(exc)
            return None

    return guarded


class _Server(LanguageServer):
    """pygls' server, reporting its own errors to the client's log rather than in pop-ups."""

    session: Session | None = None

    def report_server_error(self, error: Exception, source: Any) -> None:
        if self.session is not None:
            self.session.log(
                types.MessageType.Error,
                f"unstall: a message from the client could not be handled ({type(error).__name__}: {error}).",
            )


def build_server(options: ServerOptions | None = None) -> tuple[LanguageServer, Session]:
    """The server with every handler registered, and its session (for the exit code and clean-up)."""
    server = _Server(
        SOURCE, __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental
    )
    session = Session(server, options or ServerOptions())
    server.session = session
    handlers: Iterable[tuple[str, Callable[..., Any], Any]] = (
        (types.INITIALIZED, session.initialized, None),
        (types.TEXT_DOCUMENT_DID_OPEN, session.did_open, None),
        (types.TEXT_DOCUMENT_DID_CHANGE, session.did_change, None),
        (types.TEXT_DOCUMENT_DID_SAVE, session.did_save, types.SaveOptions(include_text=False)),
        (types.TEXT_DOCUMENT_DID_CLOSE, session.did_close, None),
        (types.WORKSPACE_DID_CHANGE_WATCHED_FILES, session.did_change_watched_files, None),
        (
            types.TEXT_DOCUMENT_CODE_ACTION,
            session.code_action,
            types.CodeActionOptions(
                code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL], resolve_provider=False
            ),
        ),
        (types.SHUTDOWN, session.shutdown, None),
    )
    for method, handler, feature_options in handlers:
        server.feature(method, feature_options)(_guarded(session, handler))
    return server, session
