"""Run the language server over two byte streams; the one place that needs pygls to be installed."""

from __future__ import annotations

from typing import BinaryIO

__all__ = ("EXTRA_MISSING", "serve")

EXTRA_MISSING = (
    "the language server needs pygls and lsprotocol, which are not installed: "
    "install the lsp extra with pip install 'unstall[lsp]'"
)


def serve(
    stdin: BinaryIO | None = None,
    stdout: BinaryIO | None = None,
    *,
    debounce: float = 0.1,
    jobs: int | None = None,
    use_cache: bool = True,
) -> int:
    """Serve one client over ``stdin``/``stdout`` (default: the process's) until it exits.

    ``debounce`` is the quiet time in seconds after an edit before checking; ``jobs`` the
    worker processes of a first check that summarizes many files (None: the usable cores);
    ``use_cache`` reads the summary cache from disk and writes it at shutdown (summaries
    are kept in memory between checks either way). Returns the
    exit code the protocol asks for: 0 after ``shutdown`` then ``exit``, 1 when the client
    went away without ``shutdown``. Raises :class:`ImportError` when the ``lsp`` extra is
    not installed.
    """
    try:
        from unstall.server._server import ServerOptions, build_server
    except ImportError as exc:
        if exc.name is not None and exc.name.split(".")[0] in ("pygls", "lsprotocol", "cattrs"):
            raise ImportError(EXTRA_MISSING, name=exc.name) from exc
        raise
    server, session = build_server(ServerOptions(debounce=debounce, jobs=jobs, use_cache=use_cache))
    try:
        server.start_io(stdin, stdout)
    finally:
        session.close()
    return 0 if session.shutdown_requested else 1
