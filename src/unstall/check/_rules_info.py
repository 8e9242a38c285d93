"""Titles and descriptions of every rule code, for the reports: the catalog's kinds and its other rules."""

from __future__ import annotations

from dataclasses import dataclass

from unstall.catalog import Catalog

__all__ = ("PROJECT_URL", "RULES_DOC_URL", "RuleInfo", "rule_infos")

PROJECT_URL = "https://github.com/unstall/unstall"
RULES_DOC_URL = f"{PROJECT_URL}/blob/main/docs/rules.md"


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
    for rule in catalog.rules.values():
        infos[rule.code] = RuleInfo(rule.code, rule.name, rule.title, rule.why, rule.file_problem)
    return dict(sorted(infos.items()))
