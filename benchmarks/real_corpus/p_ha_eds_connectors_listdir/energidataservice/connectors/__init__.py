# Reproduces: https://github.com/MTrab/energidataservice/issues/531 — the Connectors constructor lists its package folder with os.listdir; it is built in async setup
from collections import namedtuple
from importlib import import_module
from os import listdir
from os.path import dirname, isdir

Connector = namedtuple("Connector", "module namespace")


class Connectors:
    def __init__(self):
        self._connectors = []
        for module in sorted(listdir(f"{dirname(__file__)}")):
            mod_path = f"{dirname(__file__)}/{module}"
            if isdir(mod_path) and not module.endswith("__pycache__"):
                api_ns = f".{module}"
                mod = import_module(api_ns, __name__)
                self._connectors.append(Connector(api_ns, mod))

    @property
    def connectors(self):
        return self._connectors
