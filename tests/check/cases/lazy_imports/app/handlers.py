import importlib


async def lazy_heavy() -> str:
    import app.heavy  # UNS110

    return app.heavy.DATA


async def lazy_relative() -> str:
    from . import heavy  # UNS110

    return heavy.DATA


async def lazy_transitive() -> int:
    from app.uses_heavy import SIZE  # UNS110

    return SIZE


async def lazy_light() -> str:
    from app import light

    return light.VERSION


async def dynamic(name: str) -> object:
    return importlib.import_module(name)  # UNS110


def sync_import() -> str:
    import app.heavy

    return app.heavy.DATA
