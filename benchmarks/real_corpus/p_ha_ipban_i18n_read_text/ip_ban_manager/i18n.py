# Reproduces: https://github.com/Wheemer/ip-ban-manager/issues/15 — i18n helper globs and reads every panel translation with Path.read_text, called from the async panel registration
import json
from pathlib import Path

_DIR = Path(__file__).parent / "panel_translations"
_CACHE = None


def _load_all():
    out = {}
    for path in sorted(_DIR.glob("*.json")):
        out[path.stem] = json.loads(path.read_text(encoding="utf-8"))
    return out


def get_translations(language):
    global _CACHE
    if _CACHE is None:
        _CACHE = _load_all()
    return _CACHE.get(language) or _CACHE["en"]
