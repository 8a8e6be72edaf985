"""How far a version was checked against its publications, and for whom its figures hold.

Pure reads of a definition (no scoring): the result page uses them to tell staff which grades
or items could not be confirmed, which published validation figures apply, and when the person
screened is outside the population those figures come from.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import InstrumentDefinition, Validation

# A person's age band when the exact age is not recorded: the ages it spans.
AGE_BAND_RANGES = {"minor": (0, 17), "adult": (18, 120)}


@dataclass(frozen=True)
class Fidelity:
    checked: bool  # the version records a check against its publications
    unconfirmed_grades: tuple[str, ...]  # graded indicators whose grade no primary source shows
    unconfirmed_items: tuple[str, ...]  # items (ungraded) no primary source shows
    unconfirmed_rules: tuple[str, ...]  # rules citing a publication that none confirmed


def version_fidelity(definition: InstrumentDefinition) -> Fidelity:
    """Which grades, items and rules are not confirmed from a primary source.

    A version without a `provenance` block was never checked: every grade it gives counts as
    unconfirmed (its items and rules are not listed, so the page says nothing it cannot show).
    """
    checked = definition.provenance is not None
    grades, items = [], []
    for item in definition.items:
        confirmed = item.provenance is not None and item.provenance.status == "confirmed"
        if item.strength is not None:
            if not confirmed:
                grades.append(item.key)
        elif checked and not confirmed:
            items.append(item.key)
    source_keys = {source.key for source in definition.sources}
    rules = [
        rule.key
        for rule in definition.rules
        if checked
        and rule.source in source_keys
        and not (rule.provenance is not None and rule.provenance.status == "confirmed")
    ]
    return Fidelity(checked, tuple(grades), tuple(items), tuple(rules))


@dataclass(frozen=True)
class AgeCaution:
    kind: str  # outside | unknown_age
    age: int | None
    ranges: tuple[tuple[int, int], ...]  # the validated age ranges


def validation_ranges(definition: InstrumentDefinition) -> tuple[tuple[int, int], ...]:
    """The age ranges of the published validations that give one, in file order."""
    ranges = []
    for validation in definition.validation:
        if validation.age_min is None and validation.age_max is None:
            continue
        ranges.append(
            (
                validation.age_min if validation.age_min is not None else 0,
                validation.age_max if validation.age_max is not None else 120,
            )
        )
    return tuple(dict.fromkeys(ranges))


def validation_age_caution(
    definition: InstrumentDefinition, *, age: int | None, age_band: str
) -> AgeCaution | None:
    """A caution when the person is outside every validated age range, or when their age is
    not recorded closely enough to tell. None when no validation gives ages, or they fit."""
    ranges = validation_ranges(definition)
    if not ranges:
        return None
    if age is not None:
        if any(low <= age <= high for low, high in ranges):
            return None
        return AgeCaution("outside", age, ranges)
    band = AGE_BAND_RANGES.get(age_band)
    if band is not None and not any(low <= band[1] and band[0] <= high for low, high in ranges):
        return AgeCaution("outside", None, ranges)
    if band is not None and any(low <= band[0] and band[1] <= high for low, high in ranges):
        return None  # the whole band was in a validation population
    return AgeCaution("unknown_age", None, ranges)


def validation_setting_caution(
    definition: InstrumentDefinition, *, setting: str
) -> tuple[str, ...] | None:
    """The settings the screen was validated in, when this screening took place in none of
    them; None when it did, or when no validation names its settings."""
    validated = tuple(
        dict.fromkeys(key for validation in definition.validation for key in validation.settings)
    )
    if not validated or setting in validated:
        return None
    return validated


def validations(definition: InstrumentDefinition) -> tuple[Validation, ...]:
    return tuple(definition.validation)
