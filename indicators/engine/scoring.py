"""Scoring one set of answers against one instrument version.

Pure and deterministic: no Django, no database, no clock. `score` checks the answers, works out
for every item whether it applies and what it says, evaluates the rules in file order and then
the outcome bands, and explains the result in terms a person can check against the answers.

Unknown is not No: an item that is unanswered, `unknown` or `declined` can still turn out either
way, so every rule and band is evaluated for the least concerning completion (`best_case`: the
open items all turn out not to apply) and the most concerning one (`worst_case`). When the two
differ the outcome is `indeterminate` and both are reported.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .expressions import (
    MISSING,
    TV,
    answer_truth,
    any_of,
    at_least,
    context_truth,
    evaluate,
    is_open,
    negate,
)
from .models import (
    AllExpr,
    AnyExpr,
    ContextExpr,
    CountRule,
    DimensionExpr,
    DomainExpr,
    Expression,
    ExpressionRule,
    FlagRule,
    IloDimensionsRule,
    InstrumentDefinition,
    Item,
    ItemExpr,
    LocalPolicy,
    NotExpr,
    Outcome,
    Rule,
    RuleExpr,
    WeightedSumRule,
)
from .results import (
    Action,
    Coverage,
    DimensionResult,
    DomainResult,
    InstrumentRef,
    Observations,
    ObservedSign,
    Reason,
    ReasonItem,
    RuleResult,
    ScoreResult,
)
from .vocabulary import (
    CONTEXT_KEYS,
    DECLINED,
    EXPLOITATION_TYPES,
    FLAGS,
    INDETERMINATE,
    MAX_AGE,
    NON_ANSWERS,
    OBSERVATION_ANSWERS,
    STRENGTHS,
    UNKNOWN,
)

# 1.1.0: observation checklists (`subject: place`): results say what was observed, from the
# items answered yes only; every other instrument scores exactly as in 1.0.0.
ENGINE_VERSION = "1.1.0"

_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_OP_WORDS = {"lt": "<", "lte": "≤", "gt": ">", "gte": "≥", "eq": "=", "ne": "≠"}


# --- answer validation -----------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerProblem:
    """One bad answer or context value; `key` names the item (or the context key)."""

    key: str
    message: str
    section: str = "answers"  # answers | context

    def __str__(self) -> str:
        return f"{self.section}.{self.key}: {self.message}"


class AnswerError(ValueError):
    """The answers cannot be scored; `problems` names every bad key."""

    def __init__(self, problems: list[AnswerProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def validate_answers(
    definition: InstrumentDefinition,
    answers: Mapping[str, Any],
    context: Mapping[str, Any] | None = None,
) -> list[AnswerProblem]:
    """Every problem with `answers` and `context`; an empty list means they can be scored."""
    problems: list[AnswerProblem] = []
    if not isinstance(answers, Mapping):
        problems.append(AnswerProblem("*", "answers must be a mapping of item key to answer"))
    else:
        for key in sorted(answers, key=repr):
            if not isinstance(key, str):
                problems.append(AnswerProblem(repr(key), "item keys are strings"))
                continue
            try:
                item = definition.item(key)
            except KeyError:
                problems.append(AnswerProblem(key, "not an item of this instrument version"))
                continue
            message = _answer_problem(item, answers[key])
            if message is None and definition.is_observation and answers[key] == DECLINED:
                message = (
                    "an observation is observed (yes), not observed (no) or could not check "
                    "(unknown); `declined` is a person's answer"
                )
            if message:
                problems.append(AnswerProblem(key, message))
    if context is None:
        return problems
    if not isinstance(context, Mapping):
        problems.append(AnswerProblem("*", "context must be a mapping", "context"))
        return problems
    for key in sorted(context, key=repr):
        message = _context_problem(key, context[key])
        if message:
            problems.append(AnswerProblem(str(key), message, "context"))
    return problems


# Messages never repeat the value given: a wrong answer may be a person's words typed into the
# wrong field, and these messages reach API error bodies and logs.
def _answer_problem(item: Item, value: Any) -> str | None:
    if isinstance(value, str) and value in NON_ANSWERS:
        return None
    kind = item.response_type
    options = [option.key for option in item.options or ()]
    if kind == "yes_no":
        if value in ("yes", "no") and isinstance(value, str):
            return None
        return "not an answer to a yes/no question (yes, no, unknown, declined)"
    if kind == "single_choice":
        if isinstance(value, str) and value in options:
            return None
        return f"not one of the options ({', '.join(options)}) or unknown / declined"
    if kind == "multiple_choice":
        if not isinstance(value, list):
            return "expected a list of option keys, or unknown / declined"
        bad = [
            str(position)
            for position, entry in enumerate(value, 1)
            if not isinstance(entry, str) or entry not in options
        ]
        if bad:
            which = (
                f"entry {bad[0]} is not an option"
                if len(bad) == 1
                else (f"entries {', '.join(bad)} are not options")
            )
            return f"{which} of this item ({', '.join(options)})"
        if len(set(value)) != len(value):
            return "an option is listed twice"
        return None
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "not a number (or unknown / declined)"
        if isinstance(value, float) and not math.isfinite(value):
            return "the number must be finite"
        return None
    if isinstance(value, str) and _DATE.match(value):
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return "not a real date"
        return None
    return "not a date written YYYY-MM-DD (or unknown / declined)"


def _context_problem(key: Any, value: Any) -> str | None:
    if key not in CONTEXT_KEYS:
        return f"not a context key (allowed: {', '.join(CONTEXT_KEYS)})"
    if value is None:
        return None
    if key == "age":
        if isinstance(value, bool) or not isinstance(value, int):
            return "not a whole number of years"
        if not 0 <= value <= MAX_AGE:
            return f"age must be between 0 and {MAX_AGE}"
        return None
    if not isinstance(value, str) or value not in EXPLOITATION_TYPES:
        return f"not one of: {', '.join(EXPLOITATION_TYPES)}"
    return None


# --- scoring ---------------------------------------------------------------------------------


def score(
    definition: InstrumentDefinition,
    answers: Mapping[str, Any],
    context: Mapping[str, Any] | None = None,
) -> ScoreResult:
    """Score `answers` against `definition`; raises `AnswerError` naming every bad key."""
    problems = validate_answers(definition, answers, context)
    if problems:
        raise AnswerError(problems)
    return _Evaluation(definition, answers, context or {}).result()


@dataclass(frozen=True, slots=True)
class _ItemState:
    item: Item
    answer: Any  # as given, or MISSING
    shown: TV  # show_if; FALSE means "not applicable"
    yes: TV  # "this yes_no item applies and was answered yes"; FALSE for other types


@dataclass(frozen=True)
class _DimensionState:
    truth: TV
    yes: Mapping[str, tuple[str, ...]]  # strength -> yes item keys
    open: tuple[str, ...]
    combination: str | None
    combination_words: str | None = None


@dataclass(frozen=True)
class _RuleState:
    truth: TV
    value: Mapping[str, Any] | None
    drivers: tuple[str, ...]
    open: tuple[str, ...] = ()
    lower: float = 0
    upper: float = 0


@dataclass(frozen=True)
class _Fact:
    basis: str
    key: str
    holds: TV
    text: str
    source: Mapping[str, Any] | None
    items: tuple[str, ...]


class _Evaluation:
    """All truth values of one scoring, computed once; also the expression environment."""

    def __init__(
        self,
        definition: InstrumentDefinition,
        answers: Mapping[str, Any],
        context: Mapping[str, Any],
    ) -> None:
        self.definition = definition
        self.index = definition.index
        self.context_values = context
        # Items in order: a show_if refers only to earlier items (checked when loading).
        self.states: dict[str, _ItemState] = {}
        for item in definition.items:
            shown = TV.TRUE if item.show_if is None else evaluate(item.show_if, self)
            answer = answers.get(item.key, MISSING)
            yes = TV.FALSE
            if item.response_type == "yes_no":
                said = TV.UNKNOWN if is_open(answer) else TV.of(answer == "yes")
                # AND with show_if: a "yes" behind an undecided show_if may still not apply.
                yes = min(shown, said)
            self.states[item.key] = _ItemState(item, answer, shown, yes)
        self.dimensions = self._dimensions()
        self.rule_states: dict[str, _RuleState] = {}
        for rule in definition.rules:
            self.rule_states[rule.key] = self._rule_state(rule)
        self.band_truth = [TV.TRUE] + [
            evaluate(outcome.when, self) if outcome.when is not None else TV.TRUE
            for outcome in definition.outcomes[1:]
        ]

    # --- the expression environment ---------------------------------------------------------

    def item(self, expr: ItemExpr) -> TV:
        state = self.states[expr.item]
        if state.shown is TV.FALSE:
            return TV.FALSE
        return min(state.shown, answer_truth(state.item, state.answer, expr))

    def context(self, expr: ContextExpr) -> TV:
        return context_truth(expr, self.context_values)

    def domain(self, expr: DomainExpr) -> TV:
        yes, open_ = self._split(self.index.yes_no_in_domain.get(expr.domain, ()))
        return at_least(len(yes), len(yes) + len(open_), expr.min_yes)

    def dimension(self, expr: DimensionExpr) -> TV:
        state = self.dimensions.get(expr.dimension)
        return state.truth if state else TV.FALSE

    def rule(self, expr: RuleExpr) -> TV:
        state = self.rule_states[expr.rule]
        if expr.at_least is None:
            return state.truth
        rule = self.index.rules[expr.rule]
        assert isinstance(rule, WeightedSumRule)
        minimum = next(band.min for band in rule.bands if band.key == expr.at_least)
        return at_least(state.lower, state.upper, minimum)

    # --- rules ------------------------------------------------------------------------------

    def _split(self, keys: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(yes, open) among yes_no item keys."""
        yes = tuple(key for key in keys if self.states[key].yes is TV.TRUE)
        open_ = tuple(key for key in keys if self.states[key].yes is TV.UNKNOWN)
        return yes, open_

    def _dimensions(self) -> dict[str, _DimensionState]:
        rule = self.index.ilo_rule
        if rule is None:
            return {}
        result = {}
        for dimension, items in self.index.in_dimension.items():
            yes: dict[str, list[str]] = {strength: [] for strength in STRENGTHS}
            maybe: dict[str, list[str]] = {strength: [] for strength in STRENGTHS}
            open_: list[str] = []
            for item in items:
                assert item.strength is not None
                state = self.states[item.key].yes
                if state is TV.TRUE:
                    yes[item.strength].append(item.key)
                elif state is TV.UNKNOWN:
                    maybe[item.strength].append(item.key)
                    open_.append(item.key)
            lower = [len(yes[strength]) for strength in STRENGTHS]
            upper = [len(yes[strength]) + len(maybe[strength]) for strength in STRENGTHS]
            met = next((c for c in rule.combinations if c.met_by(*lower)), None)
            if met is not None:
                truth = TV.TRUE
            elif any(c.met_by(*upper) for c in rule.combinations):
                truth = TV.UNKNOWN
            else:
                truth = TV.FALSE
            result[dimension] = _DimensionState(
                truth=truth,
                yes={strength: tuple(keys) for strength, keys in yes.items()},
                open=tuple(open_),
                combination=met.label() if met else None,
                combination_words=met.words() if met else None,
            )
        return result

    def _in_order(self, keys: set[str] | list[str] | tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(keys), key=self.index.position.__getitem__))

    def _selected(self, rule: CountRule) -> tuple[str, ...]:
        select = rule.select
        if select.items is not None:
            return self._in_order(select.items)
        domains = select.domains if select.domains is not None else self.index.yes_no_in_domain
        return self._in_order(
            [key for domain in domains for key in self.index.yes_no_in_domain.get(domain, ())]
        )

    def _rule_state(self, rule: Rule) -> _RuleState:
        if isinstance(rule, CountRule):
            yes, open_ = self._split(self._selected(rule))
            lower, upper = len(yes), len(yes) + len(open_)
            return _RuleState(
                truth=at_least(lower, upper, rule.threshold),
                value={
                    "yes": lower,
                    "unknown": len(open_),
                    "min": lower,
                    "max": upper,
                    "threshold": rule.threshold,
                },
                drivers=yes,
                open=open_,
                lower=lower,
                upper=upper,
            )
        if isinstance(rule, WeightedSumRule):
            keys = self._in_order(list(rule.weights))
            yes, open_ = self._split(keys)
            lower = sum(rule.weights[key] for key in yes)
            upper = lower + sum(rule.weights[key] for key in open_)
            best_band, worst_band = _band(rule, lower), _band(rule, upper)
            # "holds" = reaches a band above the lowest one.
            truth = at_least(lower, upper, rule.bands[1].min) if len(rule.bands) > 1 else TV.TRUE
            return _RuleState(
                truth=truth,
                value={
                    "min": lower,
                    "max": upper,
                    "band": best_band if best_band == worst_band else None,
                    "best_band": best_band,
                    "worst_band": worst_band,
                },
                drivers=tuple(key for key in yes if rule.weights[key] > 0),
                open=open_,
                lower=lower,
                upper=upper,
            )
        if isinstance(rule, IloDimensionsRule):
            drivers = [
                key
                for state in self.dimensions.values()
                if state.truth is TV.TRUE
                for keys in state.yes.values()
                for key in keys
            ]
            return _RuleState(
                truth=any_of(state.truth for state in self.dimensions.values()),
                value={
                    dimension: _DIMENSION_STATUS[state.truth]
                    for dimension, state in self.dimensions.items()
                },
                drivers=self._in_order(drivers),
            )
        truth = evaluate(rule.when, self)
        return _RuleState(truth=truth, value=None, drivers=self._drivers(rule.when, truth))

    def _drivers(self, expr: Expression, truth: TV) -> tuple[str, ...]:
        """Answered items behind a true expression (nothing drives a false or open one)."""
        if truth is not TV.TRUE:
            return ()
        keys = {key for fact in self.facts(expr, truth) for key in fact.items}
        return self._in_order({key for key in keys if not is_open(self.states[key].answer)})

    # --- explanations -----------------------------------------------------------------------

    def facts(self, expr: Expression, truth: TV) -> list[_Fact]:
        """The conditions inside `expr` that make it have `truth`."""
        if isinstance(expr, AllExpr | AnyExpr):
            children = expr.all if isinstance(expr, AllExpr) else expr.any
            every = (truth is TV.TRUE) if isinstance(expr, AllExpr) else (truth is TV.FALSE)
            chosen = [child for child in children if every or evaluate(child, self) is truth]
            return [fact for child in chosen for fact in self.facts(child, truth)]
        if isinstance(expr, NotExpr):
            return self.facts(expr.not_, negate(truth))
        if isinstance(expr, ItemExpr):
            return [self._item_fact(expr, truth)]
        if isinstance(expr, ContextExpr):
            given = self.context_values.get(expr.context)
            text = (
                f"Context: {expr.context} {_OP_WORDS[expr.op]} {expr.value} "
                f"(given: {given if given is not None else 'not known'})"
            )
            return [_Fact("context", expr.context, truth, text, None, ())]
        if isinstance(expr, DomainExpr):
            yes, open_ = self._split(self.index.yes_no_in_domain.get(expr.domain, ()))
            text = f"At least {expr.min_yes} “yes” in {_words(expr.domain)}: {len(yes)} yes" + (
                f", {len(open_)} unanswered" if open_ else ""
            )
            items = yes + open_ if truth is TV.UNKNOWN else yes
            return [_Fact("domain", expr.domain, truth, text, None, self._in_order(items))]
        if isinstance(expr, DimensionExpr):
            return [self._dimension_fact(expr.dimension, truth)]
        if isinstance(expr, RuleExpr):
            return self._rule_facts(expr, truth)
        raise TypeError(f"not an expression: {expr!r}")

    def _item_fact(self, expr: ItemExpr, truth: TV) -> _Fact:
        state = self.states[expr.item]
        item = state.item
        observation = self.definition.is_observation
        if state.shown is TV.FALSE:
            said = "not asked (does not apply)"
        elif state.answer is MISSING:
            said = "not recorded" if observation else "not answered"
        elif observation and state.answer in OBSERVATION_ANSWERS:
            said = f"recorded as {OBSERVATION_ANSWERS[state.answer]}"
        else:
            said = f"answered {_answer_text(state.answer)}"
        condition = ""
        if expr.equals is not None:
            condition = f" (condition: {expr.equals})"
        elif expr.op is not None:
            condition = f" (condition: {_OP_WORDS[expr.op]} {expr.value})"
        text = f"“{item.prompt.en}” {said}{condition}"
        source = self._citation(item.source)
        return _Fact("item", item.key, truth, text, source, (item.key,))

    def _dimension_fact(self, dimension: str, truth: TV) -> _Fact:
        rule = self.index.ilo_rule
        assert rule is not None
        state = self.dimensions.get(dimension)
        if state is None:  # a dimension without items; refused when loading
            return _Fact("dimension", dimension, truth, _words(dimension), None, ())
        counts = ", ".join(f"{len(state.yes[strength])} {strength}" for strength in STRENGTHS)
        text = (
            f"ILO/EC dimension “{_words(dimension)}” is {_DIMENSION_STATUS[state.truth]}: "
            f"{counts} indicator(s) present"
            + (f", {len(state.open)} unanswered" if state.open else "")
            + (f"; enough for it: {state.combination_words}" if state.combination_words else "")
            + f". {rule.text.en}"
        )
        keys = [key for strength in STRENGTHS for key in state.yes[strength]]
        if truth is TV.UNKNOWN:
            keys += state.open
        return _Fact(
            "dimension", dimension, truth, text, self._citation(rule.source), self._in_order(keys)
        )

    def _rule_facts(self, expr: RuleExpr, truth: TV) -> list[_Fact]:
        rule = self.index.rules[expr.rule]
        state = self.rule_states[rule.key]
        source = self._citation(rule.source)
        text = rule.text.en
        keys: tuple[str, ...] = state.drivers
        if truth is TV.UNKNOWN:
            keys = self._in_order([*keys, *state.open])
        if isinstance(rule, CountRule):
            text += (
                f" ({int(state.lower)} “yes” of {rule.threshold} needed"
                + (f"; {len(state.open)} unanswered" if state.open else "")
                + ")"
            )
            return [_Fact("rule", rule.key, truth, text, source, keys)]
        if isinstance(rule, WeightedSumRule):
            score_text = (
                f"score {_number(state.lower)}"
                if state.lower == state.upper
                else f"score between {_number(state.lower)} and {_number(state.upper)}"
            )
            if expr.at_least is not None:
                minimum = next(band.min for band in rule.bands if band.key == expr.at_least)
                score_text += f"; band “{expr.at_least}” starts at {_number(minimum)}"
            return [_Fact("rule", rule.key, truth, f"{text} ({score_text})", source, keys)]
        assert isinstance(rule, ExpressionRule | FlagRule)
        inner = self.facts(rule.when, truth)
        keys = self._in_order([key for fact in inner for key in fact.items])
        return [_Fact("rule", rule.key, truth, text, source, keys), *inner]

    def _citation(self, key: str) -> dict[str, Any]:
        entry = self.index.citations[key]
        if isinstance(entry, LocalPolicy):
            return {"key": entry.key, "local_policy": True, "text": entry.text.en}
        return {
            "key": entry.key,
            "local_policy": False,
            "title": entry.title,
            "publisher": entry.publisher,
            "year": entry.year,
            "section": entry.section,
            "note": entry.note,
        }

    # --- the result -------------------------------------------------------------------------

    def result(self) -> ScoreResult:
        definition = self.definition
        outcomes = definition.outcomes
        best = max(rank for rank, truth in enumerate(self.band_truth) if truth is TV.TRUE)
        worst = max(rank for rank, truth in enumerate(self.band_truth) if truth is not TV.FALSE)
        decided = best == worst
        best_band, worst_band = outcomes[best], outcomes[worst]
        if decided:
            label, description = best_band.label.en, best_band.description.en
        else:
            label = f"Not yet decided: between “{best_band.label.en}” and “{worst_band.label.en}”"
            description = (
                "Questions that could change the result are unanswered. Until they are, the "
                "actions shown are those of the most concerning possible result."
            )
        observations = self._observations() if definition.is_observation else None
        if observations is not None:
            if not decided:
                description = (
                    "Signs that could change the result could not be checked. Until they are, "
                    "the actions shown are those of the most concerning possible result."
                )
            description = f"{description} {_observed_text(observations, len(self.states))}"
        flags = self._flags(TV.TRUE)
        return ScoreResult(
            engine_version=ENGINE_VERSION,
            instrument=InstrumentRef(
                definition.slug, definition.version, definition.content_hash()
            ),
            outcome=best_band.key if decided else INDETERMINATE,
            best_case=best_band.key,
            worst_case=worst_band.key,
            outcome_label=label,
            outcome_description=description,
            outcome_policy=best_band.policy if decided else None,
            dimensions=self._dimension_results() if self.index.ilo_rule else None,
            domains=self._domain_results(),
            rules=tuple(self._rule_result(rule) for rule in definition.rules),
            flags=flags,
            possible_flags=tuple(flag for flag in self._flags(TV.UNKNOWN) if flag not in flags),
            reasons=self._reasons(best),
            coverage=self._coverage(),
            actions=tuple(
                Action(text.en, worst_band.key, not decided) for text in worst_band.actions
            ),
            observations=observations,
        )

    def _observations(self) -> Observations:
        """Each item of an observation checklist as recorded; `observed` is what the result's
        text about the place may rest on (an open or "no" item never appears there)."""
        section_of = {
            item.key: section.title.en
            for section in self.definition.sections
            for item in section.items
        }
        observed, not_observed, open_ = [], [], []
        for key, state in self.states.items():
            if state.yes is TV.TRUE:
                observed.append(ObservedSign(key, state.item.prompt.en, section_of[key]))
            elif state.yes is TV.UNKNOWN:
                open_.append(key)
            elif state.shown is not TV.FALSE:
                not_observed.append(key)
        return Observations(tuple(observed), tuple(not_observed), tuple(open_))

    def _dimension_results(self) -> dict[str, DimensionResult]:
        return {
            dimension: DimensionResult(
                status=_DIMENSION_STATUS[state.truth],
                strong=state.yes["strong"],
                medium=state.yes["medium"],
                weak=state.yes["weak"],
                unknown=state.open,
                combination=state.combination,
            )
            for dimension, state in self.dimensions.items()
        }

    def _domain_results(self) -> dict[str, DomainResult]:
        results = {}
        for domain in sorted(self.index.yes_no_in_domain):
            yes, open_ = self._split(self.index.yes_no_in_domain[domain])
            status = "present" if yes else "unknown" if open_ else "absent"
            results[domain] = DomainResult(status, yes, open_)
        return results

    def _rule_result(self, rule: Rule) -> RuleResult:
        state = self.rule_states[rule.key]
        return RuleResult(
            key=rule.key,
            kind=rule.kind,
            status=state.truth.label,
            value=state.value,
            text=rule.text.en,
            source=self._citation(rule.source),
            drivers=state.drivers,
        )

    def _flags(self, truth: TV) -> tuple[str, ...]:
        raised = {
            flag
            for rule in self.definition.rules
            if isinstance(rule, FlagRule) and self.rule_states[rule.key].truth is truth
            for flag in rule.flags
        }
        return tuple(flag for flag in FLAGS if flag in raised)

    def _coverage(self) -> Coverage:
        counts = {"asked": 0, "answered": 0, "unknown": 0, "declined": 0, "not_applicable": 0}
        for state in self.states.values():
            if state.shown is TV.FALSE:
                counts["not_applicable"] += 1
                continue
            counts["asked"] += 1
            if state.answer == DECLINED:
                counts["declined"] += 1
            elif state.answer is MISSING or state.answer == UNKNOWN:
                counts["unknown"] += 1
            else:
                counts["answered"] += 1
        return Coverage(**counts)

    def _reasons(self, best: int) -> tuple[Reason, ...]:
        outcomes = self.definition.outcomes
        reasons: list[Reason] = []
        seen: set[tuple[str, str, str, str]] = set()

        def add(band: Outcome, status: str, facts: list[_Fact]) -> None:
            for fact in facts:
                marker = (band.key, status, fact.basis, fact.key)
                if marker in seen:
                    continue
                seen.add(marker)
                reasons.append(
                    Reason(
                        conclusion=band.key,
                        status=status,
                        basis=fact.basis,
                        key=fact.key,
                        holds=fact.holds.label,
                        text=fact.text,
                        source=fact.source,
                        items=tuple(self._reason_item(key) for key in fact.items),
                    )
                )

        band = outcomes[best]
        lead = (
            "no condition for a more concerning outcome holds"
            if band.when is None
            else "the condition for this outcome holds"
        )
        add(band, "met", [self._band_fact(band, TV.TRUE, f"“{band.label.en}”: {lead}.")])
        if band.when is not None:
            add(band, "met", self.facts(band.when, TV.TRUE))
        if best + 1 < len(outcomes) and self.band_truth[best + 1] is TV.FALSE:
            above = outcomes[best + 1]
            assert above.when is not None
            text = f"Not “{above.label.en}”: its condition does not hold."
            add(above, "not_met", [self._band_fact(above, TV.FALSE, text)])
            add(above, "not_met", self.facts(above.when, TV.FALSE))
        for rank in range(best + 1, len(outcomes)):
            if self.band_truth[rank] is not TV.UNKNOWN:
                continue
            above = outcomes[rank]
            assert above.when is not None
            text = f"Could still be “{above.label.en}”: it depends on unanswered questions."
            add(above, "undecided", [self._band_fact(above, TV.UNKNOWN, text)])
            add(above, "undecided", self.facts(above.when, TV.UNKNOWN))
        return tuple(reasons)

    def _band_fact(self, band: Outcome, truth: TV, text: str) -> _Fact:
        source = self._citation(band.policy) if band.policy else None
        return _Fact("outcome", band.key, truth, text, source, ())

    def _reason_item(self, key: str) -> ReasonItem:
        state = self.states[key]
        return ReasonItem(
            key=key,
            answer=None if state.answer is MISSING else state.answer,
            prompt=state.item.prompt.en,
            strength=state.item.strength,
        )


_DIMENSION_STATUS = {TV.TRUE: "positive", TV.FALSE: "negative", TV.UNKNOWN: "indeterminate"}


def _band(rule: WeightedSumRule, value: float) -> str:
    reached = [band.key for band in rule.bands if value >= band.min]
    return reached[-1] if reached else rule.bands[0].key


def _words(key: str) -> str:
    return key.replace("_", " ")


def _number(value: float) -> str:
    return f"{value:g}"


def _observed_text(observations: Observations, total: int) -> str:
    """What was observed, in words built from the observed items only."""
    observed = observations.observed
    if not observed:
        text = f"No sign was observed (of {total} on the checklist)."
    else:
        sections: dict[str, int] = {}
        for sign in observed:
            sections[sign.section] = sections.get(sign.section, 0) + 1
        where = "; ".join(f"{section}: {count}" for section, count in sections.items())
        text = f"Signs observed: {len(observed)} of {total} ({where})."
    if observations.could_not_check:
        text += f" Could not check: {len(observations.could_not_check)}."
    return text


def _answer_text(answer: Any) -> str:
    if isinstance(answer, list):
        return ", ".join(answer) if answer else "none of the options"
    return str(answer)


__all__ = ["ENGINE_VERSION", "AnswerError", "AnswerProblem", "score", "validate_answers"]
