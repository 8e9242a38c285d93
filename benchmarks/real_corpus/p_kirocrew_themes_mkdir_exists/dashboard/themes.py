# Reproduces: https://github.com/kirodotdev/KiroCrew/issues/6198 — an async HTTP handler runs Path.mkdir and Path.exists on a path returned by a typed helper
from pathlib import Path


def _data_home() -> Path:
    return Path.home() / ".kiro-crew"


async def api_themes_create(request):
    body = await request.json()
    themes_path = _data_home() / "themes"
    themes_path.mkdir(parents=True, exist_ok=True)  # expect
    target = themes_path / f"{body['name']}.json"
    if target.exists():  # expect
        return {"status": 409}
    return {"status": 201, "path": str(target)}
