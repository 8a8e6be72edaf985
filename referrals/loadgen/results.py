"""Real engine results for generated screenings and contact triage.

Scoring is the expensive part of a screening (1-6 ms with `to_dict()`), so a handful of
answer patterns per published instrument version is made once, and each (pattern, context)
is scored once with the real engine, exactly as `screening_submit` scores it; the result,
serialised once, is then written for every screening that uses the same pattern and context.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from indicators.engine import InstrumentDefinition, score
from indicators.models import InstrumentVersion
from indicators.selectors import instrument_definition
from referrals.loadgen.writers import RawJson, raw_json

# How many answer patterns per instrument version, and how concerning they are: the share
# of yes/no items answered "yes" (low, some, many).
PATTERNS_PER_VERSION = 12
_YES_RATES = (0.05, 0.2, 0.45)


@dataclass(frozen=True)
class Scored:
    result: RawJson
    outcome: str
    engine_version: str
    flags: frozenset[str]


def answer_pattern(
    definition: InstrumentDefinition, rng: random.Random, yes_rate: float
) -> dict[str, Any]:
    """Answers a real interview might give: some not asked, some unknown or declined."""
    answers: dict[str, Any] = {}
    for item in definition.items:
        roll = rng.random()
        if roll < 0.05:
            continue
        if roll < 0.1:
            answers[item.key] = "unknown"
            continue
        if roll < 0.12:
            answers[item.key] = "declined"
            continue
        options = [option.key for option in item.options or ()]
        if item.response_type == "yes_no":
            answers[item.key] = "yes" if rng.random() < yes_rate else "no"
        elif item.response_type == "single_choice":
            answers[item.key] = rng.choice(options)
        elif item.response_type == "multiple_choice":
            answers[item.key] = rng.sample(options, rng.randint(0, min(3, len(options))))
        elif item.response_type == "number":
            answers[item.key] = rng.randint(0, 16)
        else:
            day = dt.date(2016, 1, 1) + dt.timedelta(days=rng.randint(0, 3000))
            answers[item.key] = day.isoformat()
    return answers


class ResultBook:
    """Answer patterns of every published version and their scored results, by context."""

    def __init__(self, versions: list[InstrumentVersion], rng: random.Random) -> None:
        self.versions = {version.pk: version for version in versions}
        self.definitions = {version.pk: instrument_definition(version) for version in versions}
        self.patterns: dict[int, list[tuple[dict[str, Any], RawJson]]] = {}
        for version_id, definition in self.definitions.items():
            patterns = []
            for index in range(PATTERNS_PER_VERSION):
                answers = answer_pattern(definition, rng, _YES_RATES[index % len(_YES_RATES)])
                patterns.append((answers, raw_json(answers)))
            self.patterns[version_id] = patterns
        self._scored: dict[tuple, Scored] = {}
        self.scorings = 0

    def bands(self, version_id: int) -> list[str]:
        return [outcome.key for outcome in self.definitions[version_id].outcomes]

    def scored(
        self, version_id: int, pattern: int, context: dict[str, Any], extra: tuple = ()
    ) -> Scored:
        """The engine's result for a pattern (plus `extra` answers) in `context`, scored once."""
        key = (version_id, pattern, tuple(sorted(context.items())), extra)
        found = self._scored.get(key)
        if found is None:
            answers = {**self.patterns[version_id][pattern][0], **dict(extra)}
            result = score(self.definitions[version_id], answers, context).to_dict()
            found = Scored(
                result=raw_json(result),
                outcome=result["outcome"],
                engine_version=result["engine_version"],
                flags=frozenset(result.get("flags") or ()),
            )
            self._scored[key] = found
            self.scorings += 1
        return found
