"""Titles and descriptions of every rule code, for the reports (from the catalog's kinds plus UNS201/UNS9xx)."""

from __future__ import annotations

from dataclasses import dataclass

from unstall._config import EXTRA_CODES
from unstall.catalog import Catalog

__all__ = ("PROJECT_URL", "RULES_DOC_URL", "RuleInfo", "rule_infos")

PROJECT_URL = "https://github.com/unstall/unstall"
RULES_DOC_URL = f"{PROJECT_URL}/blob/main/docs/rules.md"

_EXTRA_WHY = {
    "UNS201": "Awaiting the result of a blocking call does not make it asynchronous: the call still runs, and blocks, on the event loop before the await.",
    "UNS901": "The file has a syntax error, so it cannot be checked.",
    "UNS902": "The file cannot be decoded with its declared (or the default UTF-8) encoding, so it cannot be checked.",
    "UNS903": "The file contains NUL bytes: it is binary, not Python source.",
    "UNS904": "The file is larger than max-file-size, so it was not checked.",
    "UNS905": "The file cannot be read (a broken symbolic link, a folder or special file, or no permission).",
}


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """A rule code's short title, longer description, and whether it is a file problem (UNS9xx)."""

    code: str
    name: str
    title: str
    why: str
    file_problem: bool

    @property
    def help_uri(self) -> str:
        """Link to the rule's section of the rules reference."""
        return f"{RULES_DOC_URL}#{self.code.lower()}"


def rule_infos(catalog: Catalog) -> dict[str, RuleInfo]:
    """Every rule code's :class:`RuleInfo`, keyed and ordered by code."""
    infos: dict[str, RuleInfo] = {}
    for info in catalog.kinds.values():
        name = "blocking-" + info.kind.value
        infos[info.code] = RuleInfo(info.code, name, info.title, info.why, False)
    for code, title in EXTRA_CODES.items():
        infos[code] = RuleInfo(
            code, title.replace(" ", "-"), title, _EXTRA_WHY[code], code.startswith("UNS9")
        )
    return dict(sorted(infos.items()))
