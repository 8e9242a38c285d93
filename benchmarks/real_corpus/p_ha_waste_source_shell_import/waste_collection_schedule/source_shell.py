# Reproduces: https://github.com/mampfes/hacs_waste_collection_schedule/issues/2134 — SourceShell.create (a staticmethod) imports the source module with importlib while the entry is set up
import importlib


class SourceShell:
    def __init__(self, source, title):
        self._source = source
        self._title = title

    @staticmethod
    def create(source_name, title, source_args):
        source_module = importlib.import_module(f"waste_collection_schedule.source.{source_name}")
        source = source_module.Source(**source_args)
        return SourceShell(source, title or source_module.TITLE)
