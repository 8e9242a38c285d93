import json


def load_config(path: str = "shop.json") -> dict[str, object]:
    with open(path) as handle:
        return dict(json.load(handle))


def defaults() -> dict[str, object]:
    return {"currency": "EUR"}
