"""Routing rules in plain words for the pages (each condition and referral through the
labels, never the YAML), and what changed between two versions, rule by rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from config.labels import label, labels
from referrals.routing import (
    AllCond,
    AlwaysCond,
    AnyCond,
    CaseCond,
    DomainCond,
    FlagCond,
    NotCond,
    OutcomeCond,
    PossibleFlagCond,
    Refer,
    RoutingDefinition,
    RoutingRule,
)

CASE_ATTRIBUTE_WORDS = {
    "age": "age",
    "age_band": "age band",
    "gender": "gender",
    "exploitation_type": "suspected exploitation",
    "region": "region",
    "nationality": "nationality",
    "languages": "languages",
    "urgent": "marked urgent",
    "mandatory_report_required": "mandatory report required",
}
# The vocabulary of a case attribute's values (the rest are shown as written).
CASE_VALUE_KINDS = {
    "age_band": "age_band",
    "gender": "gender",
    "exploitation_type": "exploitation_type",
    "languages": "language",
}
OP_WORDS = {
    "eq": "is",
    "ne": "is not",
    "lt": "is under",
    "lte": "is at most",
    "gt": "is over",
    "gte": "is at least",
    "in": "is one of",
}


@dataclass(frozen=True)
class ConditionWords:
    """One condition as a sentence, with the conditions it combines below it."""

    text: str
    parts: tuple[ConditionWords, ...] = ()


def _either(words: list[str], joiner: str = "or") -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {joiner} {words[-1]}"


def _quoted(words: list[str], joiner: str = "or") -> str:
    return _either([f"“{word}”" for word in words], joiner)


def _case_words(condition: CaseCond) -> str:
    attribute, op, value = condition.case, condition.op, condition.value
    kind = CASE_VALUE_KINDS.get(attribute)
    values = value if isinstance(value, list) else [value]
    if kind:
        shown = labels(values, kind)
    elif isinstance(value, bool):
        shown = ["yes" if value else "no"]
    else:
        shown = [str(part) for part in values]
    if attribute == "languages":
        verb = "speaks none of" if op == "ne" else "speaks"
        return f"the person {verb} {_quoted(shown)}"
    if isinstance(value, bool) and op in ("eq", "ne"):
        negate = (op == "ne") == value
        return f"the case is {'not ' if negate else ''}{CASE_ATTRIBUTE_WORDS[attribute]}"
    return f"the case's {CASE_ATTRIBUTE_WORDS[attribute]} {OP_WORDS[op]} {_quoted(shown)}"


def condition_words(condition: Any) -> ConditionWords:
    match condition:
        case OutcomeCond(outcome=outcomes):
            return ConditionWords(f"the outcome in force is {_quoted(labels(outcomes, 'outcome'))}")
        case FlagCond(flag=flag):
            return ConditionWords(f"the screening raised the flag “{label(flag, 'flag')}”")
        case PossibleFlagCond(possible_flag=flag):
            return ConditionWords(
                f"the flag “{label(flag, 'flag')}” is raised, or possible given the unanswered "
                "questions"
            )
        case DomainCond(domain=domain):
            return ConditionWords(f"signs of “{label(domain, 'indicator_domain')}” are present")
        case CaseCond():
            return ConditionWords(_case_words(condition))
        case AlwaysCond():
            return ConditionWords("always, for every screening")
        case AnyCond(any=parts):
            return ConditionWords(
                "any of these holds:", tuple(condition_words(part) for part in parts)
            )
        case AllCond(all=parts):
            return ConditionWords(
                "all of these hold:", tuple(condition_words(part) for part in parts)
            )
        case NotCond(not_=inner):
            inner_words = condition_words(inner)
            if not inner_words.parts:
                return ConditionWords(f"it is not so that {inner_words.text}")
            return ConditionWords("this does not hold:", (inner_words,))
    raise TypeError(f"not a routing condition: {type(condition).__name__}")


def refer_words(refer: Refer) -> str:
    details = [f"{label(refer.priority, 'priority').lower()} priority"]
    if refer.mandatory:
        details.append("mandatory: consent cannot block it")
    if refer.providers > 1:
        details.append(f"to {refer.providers} providers")
    return f"{label(refer.service_type, 'service_type')} ({', '.join(details)})"


# A rule may be for one kind of screening only (`subject`, docs/observation-checklists.md).
SUBJECT_WORDS = {
    "person": "Screenings of a person only",
    "place": "Observations of a place only",
}


@dataclass(frozen=True)
class RuleWords:
    key: str
    text: str
    when: ConditionWords
    refers: tuple[str, ...]
    subject: str = ""  # in words; "" for every screening


def rule_words(rule: RoutingRule) -> RuleWords:
    return RuleWords(
        key=rule.key,
        text=rule.text,
        when=condition_words(rule.when),
        refers=tuple(refer_words(refer) for refer in rule.refer),
        subject=SUBJECT_WORDS.get(getattr(rule, "subject", None) or "", ""),
    )


def definition_words(definition: RoutingDefinition) -> list[RuleWords]:
    return [rule_words(rule) for rule in definition.rules]


# --- what changed between two versions -----------------------------------------------------


@dataclass(frozen=True)
class RuleChange:
    kind: str  # "added", "removed", "changed"
    key: str
    before: RuleWords | None
    after: RuleWords | None
    what: tuple[str, ...] = ()  # for "changed": which parts, in words


@dataclass
class RulesComparison:
    changes: list[RuleChange] = field(default_factory=list)
    title_changed: bool = False
    order_changed: bool = False

    @property
    def added(self) -> list[RuleChange]:
        return [change for change in self.changes if change.kind == "added"]

    @property
    def removed(self) -> list[RuleChange]:
        return [change for change in self.changes if change.kind == "removed"]

    @property
    def changed(self) -> list[RuleChange]:
        return [change for change in self.changes if change.kind == "changed"]

    @property
    def same_rules(self) -> bool:
        return not self.changes and not self.order_changed


def rules_compare(before: RoutingDefinition, after: RoutingDefinition) -> RulesComparison:
    """Rule by rule, by key: added, removed, changed (the sentence, when it applies, what it
    refers to); and whether the title or the order of the rules that stayed changed (the
    first matching rule is the one a referral names)."""
    comparison = RulesComparison(title_changed=before.title != after.title)
    old = {rule.key: rule for rule in before.rules}
    new = {rule.key: rule for rule in after.rules}
    for rule in after.rules:
        previous = old.get(rule.key)
        if previous is None:
            comparison.changes.append(RuleChange("added", rule.key, None, rule_words(rule)))
        elif previous != rule:
            what = []
            if previous.text != rule.text:
                what.append("its sentence")
            if getattr(previous, "subject", None) != getattr(rule, "subject", None):
                what.append("which screenings it is for")
            if previous.when != rule.when:
                what.append("when it applies")
            if previous.refer != rule.refer:
                what.append("what it refers to")
            comparison.changes.append(
                RuleChange("changed", rule.key, rule_words(previous), rule_words(rule), tuple(what))
            )
    for rule in before.rules:
        if rule.key not in new:
            comparison.changes.append(RuleChange("removed", rule.key, rule_words(rule), None))
    kept_old = [rule.key for rule in before.rules if rule.key in new]
    kept_new = [rule.key for rule in after.rules if rule.key in old]
    comparison.order_changed = kept_old != kept_new
    return comparison
