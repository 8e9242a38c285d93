"""What the tripwire does with a blocking call it caught: one policy, decided per rule code."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ("Action", "Policy")

_CODE = re.compile(r"UNS\d{3}")


class Action(enum.Enum):
    """What to do with one blocking call made on a running loop's thread.

    ``RAISE`` makes the call fail with :class:`unstall.errors.BlockingCallError` before it runs
    (tests); ``WARN`` issues a :class:`unstall.errors.BlockingCallWarning` and lets it run
    (staging); ``RECORD`` only records the event, with its duration (production); ``IGNORE``
    drops it.
    """

    RAISE = "raise"
    WARN = "warn"
    RECORD = "record"
    IGNORE = "ignore"

    @classmethod
    def parse(cls, value: Action | str, *, what: str = "action") -> Action:
        """``value`` as an :class:`Action`; raises ``ValueError`` naming the valid choices."""
        if isinstance(value, Action):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            choices = ", ".join(repr(a.value) for a in cls)
            raise ValueError(
                f"The tripwire {what} {value!r} is not valid; use one of {choices}."
            ) from None


@dataclass(frozen=True, slots=True)
class Policy:
    """Decides, per rule code, what the tripwire does with a blocking call.

    ``default`` applies to every code not named in ``rules``; ``rules`` maps rule codes
    (``"UNS101"``) to actions, given as :class:`Action` or as their names (``"raise"``,
    ``"warn"``, ``"record"``, ``"ignore"``). ``Policy("raise", {"UNS110": "ignore"})`` fails
    every blocking call except run-time imports. Raises ``ValueError`` for an unknown action or
    a malformed code.
    """

    default: Action | str = Action.RECORD
    rules: Mapping[str, Action | str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "default", Action.parse(self.default, what="default action"))
        parsed: dict[str, Action] = {}
        for code, action in dict(self.rules).items():
            if not isinstance(code, str) or not _CODE.fullmatch(code):
                raise ValueError(
                    f"The tripwire policy names rule code {code!r}; rule codes look like 'UNS101'."
                )
            parsed[code] = Action.parse(action, what=f"action for {code}")
        object.__setattr__(self, "rules", MappingProxyType(parsed))

    def __hash__(self) -> int:
        return hash((self.default, tuple(sorted((k, v.value) for k, v in self._rules().items()))))

    def _rules(self) -> Mapping[str, Action]:
        rules: Mapping[str, Action] = self.rules  # type: ignore[assignment]  # normalized in __post_init__
        return rules

    def action_for(self, code: str) -> Action:
        """The action for rule ``code``: its own rule if set, else the default."""
        action = self._rules().get(code)
        if action is None:
            default = self.default
            assert isinstance(default, Action)
            return default
        return action

    @classmethod
    def of(cls, value: Policy | Action | str | None) -> Policy:
        """A policy from a :class:`Policy`, an action or its name (``None`` means ``record``)."""
        if isinstance(value, Policy):
            return value
        return cls(Action.RECORD if value is None else value)
