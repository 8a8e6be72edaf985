"""The result of scoring one set of answers: immutable, and JSON-ready through `to_dict()`."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class InstrumentRef:
    slug: str
    version: int
    content_hash: str


@dataclass(frozen=True)
class ReasonItem:
    """An answer a reason rests on, with the question as it was asked (English)."""

    key: str
    answer: Any  # the answer as given; None when the item was not answered at all
    prompt: str
    strength: str | None = None  # ILO/EC grade, for dimension indicators


@dataclass(frozen=True)
class Reason:
    """One human-checkable step from answers to the conclusion.

    `conclusion` is the outcome band the reason is about and `status` says how: `met` (the band
    is reached because of this), `not_met` (why the next band up is not reached) or
    `undecided` (open items that could still move the result to that band). `basis`/`key` name
    the condition (a rule, dimension, domain, item, context value or the band itself) and
    `holds` its own truth value.
    """

    conclusion: str
    status: str
    basis: str
    key: str
    holds: str
    text: str
    source: Mapping[str, Any] | None
    items: tuple[ReasonItem, ...]


@dataclass(frozen=True)
class RuleResult:
    key: str
    kind: str
    status: str  # true | false | unknown
    value: Mapping[str, Any] | None
    text: str
    source: Mapping[str, Any]
    drivers: tuple[str, ...]


@dataclass(frozen=True)
class DimensionResult:
    status: str  # positive | negative | indeterminate
    strong: tuple[str, ...]
    medium: tuple[str, ...]
    weak: tuple[str, ...]
    unknown: tuple[str, ...]
    combination: str | None


@dataclass(frozen=True)
class DomainResult:
    status: str  # present | absent | unknown
    yes: tuple[str, ...]
    unknown: tuple[str, ...]


@dataclass(frozen=True)
class ObservedSign:
    """A sign the officer observed at the place (an observation checklist's `yes`)."""

    key: str
    prompt: str
    section: str  # the section's title (English)


@dataclass(frozen=True)
class Observations:
    """What an observation checklist recorded, item by item: the result's text about what was
    seen is built from `observed` only."""

    observed: tuple[ObservedSign, ...]
    not_observed: tuple[str, ...]
    could_not_check: tuple[str, ...]  # `unknown` or not answered at all


@dataclass(frozen=True)
class Coverage:
    asked: int  # applicable items (show_if not false)
    answered: int
    unknown: int  # `unknown` or not answered at all
    declined: int
    not_applicable: int


@dataclass(frozen=True)
class Action:
    text: str
    band: str
    provisional: bool  # true while the outcome is indeterminate (worst case's actions)


@dataclass(frozen=True)
class ScoreResult:
    engine_version: str
    instrument: InstrumentRef
    outcome: str
    best_case: str
    worst_case: str
    outcome_label: str
    outcome_description: str
    outcome_policy: str | None
    dimensions: Mapping[str, DimensionResult] | None
    domains: Mapping[str, DomainResult]
    rules: tuple[RuleResult, ...]
    flags: tuple[str, ...]
    possible_flags: tuple[str, ...]
    reasons: tuple[Reason, ...]
    coverage: Coverage
    actions: tuple[Action, ...]
    # Only for an observation checklist (`subject: place`); left out of `to_dict()` otherwise.
    observations: Observations | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable data; the same answers always give an equal dict."""
        data = _plain(self)
        if self.dimensions is None:
            del data["dimensions"]
        if self.observations is None:
            del data["observations"]
        return data


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return {field.name: _plain(getattr(value, field.name)) for field in fields}
    if isinstance(value, Mapping):
        return {str(key): _plain(entry) for key, entry in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(entry) for entry in value]
    return value
