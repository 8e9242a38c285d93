# Reproduces: https://github.com/home-assistant/core/issues/116188 — the gateway subclass constructor reaches get_const(), which import_module()s the protocol module
from importlib import import_module

LOADED = {}


def get_const(protocol_version):
    version = str(protocol_version).replace(".", "")
    path = f"mysensors.const_{version}"
    if path not in LOADED:
        const = import_module(path)
        LOADED[path] = const
    return LOADED[path]
