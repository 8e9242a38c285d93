"""``unstall server``: findings as you type, through the Language Server Protocol.

:func:`serve` runs the server over a pair of byte streams (standard input and output by
default) until the client says ``exit``. It needs the ``lsp`` extra (``pip install
'unstall[lsp]'``: pygls and lsprotocol); without it, it raises :class:`ImportError` naming
the extra.

Open documents are checked as files of the project around them, their unsaved text in place
of the file on disk (``_projects``); a finding is a diagnostic whose related information is
its chain, and its fix a code action (``_diagnostics``); checks run one at a time off the
event loop, an edit's after a short quiet time (``_schedule``); ``_server`` wires these to
pygls' handlers and ``_text`` converts positions to the client's encoding.
"""

from __future__ import annotations

from unstall._exports import publish as _publish
from unstall.server._serve import serve

__all__ = ("serve",)

_publish(__name__, globals(), __all__)
