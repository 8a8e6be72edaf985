"""What the result page shows first: a summary in plain words, the ILO/EC dimensions as a
picture, and a simple bar for the counting and scoring rules of other instruments.

Everything here reads the stored engine result (`Screening.result`, the engine's
`ScoreResult.to_dict()`) and the instrument version it was scored against; nothing is scored
again. A stored result is what the officer saw when it was made, so a later change of the
engine or the instrument cannot change the picture of an old screening.
"""

from __future__ import annotations

from typing import Any

from config.labels import code_words, label
from indicators.engine import InstrumentDefinition
from indicators.engine.models import CountRule, WeightedSumRule
from indicators.engine.vocabulary import STRENGTHS

# The ILO/EC definition's two stages: how the person was recruited, and what happened at work
# and at the destination; the picture shows them side by side.
RECRUITMENT = frozenset(
    {"deceptive_recruitment", "coercive_recruitment", "recruitment_abuse_of_vulnerability"}
)
GROUPS = (("When recruited", True), ("At the destination", False))

# How a pip is drawn: filled (yes), hatched (open: don't know, skipped, declined), hollow.
PIP_ORDER = {"yes": 0, "open": 1, "no": 2}


def dimension_picture(
    definition: InstrumentDefinition, result: dict[str, Any], language: str
) -> dict[str, Any] | None:
    """For each ILO/EC dimension: its status, one pip per indicator of each grade, the
    indicators answered yes with their grade, and the combination that met it. None for an
    instrument without the ILO/EC rule (or a stored result without dimensions)."""
    stored = result.get("dimensions")
    rule = definition.index.ilo_rule
    if not stored or rule is None:
        return None
    combinations = {combination.label(): combination.words() for combination in rule.combinations}
    dimensions = []
    for key, items in definition.index.in_dimension.items():
        entry = stored.get(key)
        if entry is None:
            continue
        open_keys = set(entry.get("unknown", ()))
        grades = []
        for strength in STRENGTHS:
            yes_keys = set(entry.get(strength, ()))
            graded = [item.key for item in items if item.strength == strength]
            if not graded:
                continue
            pips = sorted(
                ("yes" if k in yes_keys else "open" if k in open_keys else "no" for k in graded),
                key=PIP_ORDER.__getitem__,
            )
            grades.append(
                {
                    "strength": strength,
                    "total": len(graded),
                    "yes": pips.count("yes"),
                    "open": pips.count("open"),
                    "pips": pips,
                }
            )
        yes_items = [
            {
                "key": item_key,
                "strength": strength,
                "prompt": _prompt(definition, item_key, language),
            }
            for strength in STRENGTHS
            for item_key in entry.get(strength, ())
        ]
        combination = entry.get("combination")
        dimensions.append(
            {
                "key": key,
                "status": entry.get("status", "negative"),
                "grades": grades,
                # One cell per grade, None where the dimension has no indicator of that grade.
                "cells": [
                    next((grade for grade in grades if grade["strength"] == strength), None)
                    for strength in STRENGTHS
                ],
                "yes_items": yes_items,
                "open": len(open_keys),
                "met_by": combinations.get(combination, combination) if combination else "",
            }
        )
    groups = [
        {"name": name, "dimensions": [d for d in dimensions if (d["key"] in RECRUITMENT) is stage]}
        for name, stage in GROUPS
    ]
    return {
        "dimensions": dimensions,
        "groups": [group for group in groups if group["dimensions"]],
        "met": [d["key"] for d in dimensions if d["status"] == "positive"],
        "open": [d["key"] for d in dimensions if d["status"] == "indeterminate"],
        "rule_text": rule.text.get(language),
        "combinations": list(combinations.values()),
    }


def rule_bars(
    definition: InstrumentDefinition, result: dict[str, Any], language: str
) -> list[dict[str, Any]]:
    """A bar per counting or scoring rule: the "yes" answers against the number needed, or the
    score against its bands. Instruments with the ILO/EC picture need none."""
    if result.get("dimensions"):
        return []
    bars = []
    for entry in result.get("rules", ()):
        value = entry.get("value") or {}
        try:
            rule = definition.rule(entry["key"])
        except KeyError:
            continue
        text = rule.text.get(language)
        if isinstance(rule, CountRule) and "threshold" in value:
            yes, unknown, threshold = value["yes"], value["unknown"], value["threshold"]
            slots = max(threshold, yes + unknown)
            pips = ["yes"] * yes + ["open"] * unknown + ["no"] * (slots - yes - unknown)
            bars.append(
                {
                    "kind": "count",
                    "key": rule.key,
                    "text": text,
                    "status": entry.get("status"),
                    "yes": yes,
                    "open": unknown,
                    "threshold": threshold,
                    "pips": [
                        {"state": state, "needed": position == threshold}
                        for position, state in enumerate(pips, 1)
                    ],
                }
            )
        elif isinstance(rule, WeightedSumRule) and "min" in value:
            low, high = value["min"], value["max"]
            top = max([high, *(band.min for band in rule.bands)]) or 1
            top = top * 1.2
            bars.append(
                {
                    "kind": "score",
                    "key": rule.key,
                    "text": text,
                    "low": _number(low),
                    "high": _number(high),
                    "band": value.get("band") or "",
                    "best_band": value.get("best_band") or "",
                    "worst_band": value.get("worst_band") or "",
                    "low_width": _percent(low, top),
                    "open_width": _percent(high - low, top),
                    "open_x": _percent(low, top),
                    "bands": [
                        {"key": band.key, "min": _number(band.min), "x": _percent(band.min, top)}
                        for band in rule.bands
                        if band.min > 0
                    ],
                }
            )
    return bars


def result_summary(
    *,
    definition: InstrumentDefinition,
    result: dict[str, Any],
    picture: dict[str, Any] | None,
    best_case: str,
    worst_case: str,
    minor: str,
) -> list[str]:
    """A few short sentences saying what was found and how much is still open; read before
    anything else on the page."""
    sentences = []
    if minor == "known":
        sentences.append("The person is under 18: child welfare must be told now.")
    elif minor == "possible":
        sentences.append("The person may be under 18: treat them as a child.")
    if picture is not None:
        total = len(picture["dimensions"])
        met = [label(key, "ilo_dimension").lower() for key in picture["met"]]
        open_ = picture["open"]
        if met:
            sentences.append(f"{len(met)} of {total} ILO/EC dimensions met: {_join(met)}.")
        else:
            sentences.append(f"None of the {total} ILO/EC dimensions is met.")
        if open_:
            sentences.append(f"{len(open_)} more could still be met.")
    coverage = result.get("coverage") or {}
    yes = sum(len(domain.get("yes", ())) for domain in (result.get("domains") or {}).values())
    asked = coverage.get("asked", 0)
    still_open = coverage.get("unknown", 0) + coverage.get("declined", 0)
    if definition.is_observation:
        # A checklist of a place: what the officer saw, not what a person answered.
        answered = f"{yes} of {asked} sign{'s' if asked != 1 else ''} observed"
        if still_open:
            answered += f", {still_open} could not be checked"
    else:
        answered = f"{yes} of {asked} question{'s' if asked != 1 else ''} answered yes"
        if still_open:
            answered += f", {still_open} not known or not given"
    sentences.append(answered[:1].upper() + answered[1:] + ".")
    if best_case != worst_case:
        opening = (
            "Signs that could not be checked could change it"
            if definition.is_observation
            else "Open questions could change it"
        )
        sentences.append(f"{opening}: the result lies between “{best_case}” and “{worst_case}”.")
    return sentences


def _prompt(definition: InstrumentDefinition, key: str, language: str) -> str:
    try:
        return definition.item(key).prompt.get(language)
    except KeyError:
        return code_words(key)


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _number(value: float) -> str:
    return f"{value:g}"


def _percent(value: float, top: float) -> str:
    return f"{max(0.0, min(100.0, 100 * value / top)):.1f}"
