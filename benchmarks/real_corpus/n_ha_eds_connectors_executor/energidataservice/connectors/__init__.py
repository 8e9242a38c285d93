# Reproduces: https://github.com/MTrab/energidataservice/issues/531 — fixed shape: the Connectors class is constructed in the executor
from importlib import import_module
from os import listdir
from os.path import dirname, isdir


class Connectors:
    def __init__(self):
        self.connectors = []
        for module in sorted(listdir(dirname(__file__))):
            if isdir(f"{dirname(__file__)}/{module}") and not module.startswith("__"):
                self.connectors.append(import_module(f".{module}", __name__))
