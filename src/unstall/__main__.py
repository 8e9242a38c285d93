"""``python -m unstall``: the same as the ``unstall`` command."""

from __future__ import annotations

from unstall._cli import main

raise SystemExit(main())
