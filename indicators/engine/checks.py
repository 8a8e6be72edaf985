"""Cross-checks of an instrument file that need the whole file in view.

`models.py` checks each part's shape; this module checks that the parts fit together: keys are
unique, every reference points at something declared, expressions make sense for the items they
name. It works on whatever parts did validate, so one broken item does not hide the problems of
every other one; references to a part that failed validation are not reported twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

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
    Item,
    ItemExpr,
    LocalPolicy,
    NotExpr,
    Outcome,
    Provenance,
    Rule,
    RuleExpr,
    SectionHeader,
    Source,
    Validation,
    VersionProvenance,
    WeightedSumRule,
)
from .vocabulary import (
    CHOICE_TYPES,
    EXPLOITATION_TYPES,
    INDETERMINATE,
    NON_ANSWERS,
    PLACE,
    UNKNOWN,
)

Loc = tuple[str | int, ...]


@dataclass
class Parts:
    """The parts of one file that passed shape validation, each with its location."""

    languages: list[str] = field(default_factory=list)
    # From the header, when it validated: `place` makes the file an observation checklist.
    subject: str | None = None
    audience: str | None = None
    sources: list[tuple[Loc, Source]] = field(default_factory=list)
    local_policies: list[tuple[Loc, LocalPolicy]] = field(default_factory=list)
    sections: list[tuple[Loc, SectionHeader]] = field(default_factory=list)
    items: list[tuple[Loc, Item]] = field(default_factory=list)
    rules: list[tuple[Loc, Rule]] = field(default_factory=list)
    outcomes: list[tuple[Loc, Outcome]] = field(default_factory=list)
    version_provenance: tuple[Loc, VersionProvenance] | None = None
    validations: list[tuple[Loc, Validation]] = field(default_factory=list)
    # Position of every item / rule key in the file, including parts that failed validation.
    item_order: dict[str, int] = field(default_factory=dict)
    rule_order: dict[str, int] = field(default_factory=dict)
    # Keys of parts that failed validation (already reported).
    broken_items: set[str] = field(default_factory=set)
    broken_citations: set[str] = field(default_factory=set)
    # Something failed validation: skip checks that need every item (e.g. "can never hold").
    incomplete: bool = False


@dataclass(frozen=True)
class _Scope:
    """Where an expression sits: it decides what it may refer to."""

    kind: str  # show_if | rule | outcome
    position: int = 0  # item position (show_if) or rule index (rule)
    owner: str = ""


def check_parts(parts: Parts) -> list[tuple[Loc, str]]:
    """Every cross-check problem of `parts`, as (location, message)."""
    return _Checker(parts).run()


class _Checker:
    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        self.problems: list[tuple[Loc, str]] = []
        self.items: dict[str, Item] = {}
        for _, item in parts.items:
            self.items.setdefault(item.key, item)
        self.source_keys = {source.key for _, source in parts.sources}
        self.source_kinds = {source.key: source.kind for _, source in parts.sources}
        self.policy_keys = {policy.key for _, policy in parts.local_policies}
        self.rules: dict[str, tuple[int, Rule]] = {}
        for index, (_, rule) in enumerate(parts.rules):
            self.rules.setdefault(rule.key, (index, rule))
        self.yes_no_in_domain = Counter(
            item.domain for item in self.items.values() if item.response_type == "yes_no"
        )
        self.items_in_dimension = Counter(
            item.dimension for item in self.items.values() if item.dimension
        )
        ilo_positions = [
            parts.rule_order.get(rule.key, 0)
            for _, rule in parts.rules
            if isinstance(rule, IloDimensionsRule)
        ]
        self.ilo_position = min(ilo_positions) if ilo_positions else None

    def problem(self, loc: Loc, message: str) -> None:
        self.problems.append((loc, message))

    def run(self) -> list[tuple[Loc, str]]:
        self.check_citations()
        self.check_sections()
        self.check_items()
        self.check_rules()
        self.check_outcomes()
        self.check_provenance()
        self.check_validations()
        self.check_observation()
        return self.problems

    # --- observation checklists (subject: place) --------------------------------------------

    def check_observation(self) -> None:
        """An observation checklist records what is seen at a place: every item is answered
        observed / not observed / could not check (a yes_no item), it has no person whose age
        or exploitation a rule could read, and its audience is the premises."""
        if self.parts.subject != PLACE:
            return
        if self.parts.audience not in (None, "premises"):
            self.problem(
                ("audience",),
                "an observation checklist (`subject: place`) has `audience: premises`",
            )
        for loc, item in self.parts.items:
            if item.response_type != "yes_no":
                self.problem(
                    (*loc, "response_type"),
                    "an observation checklist (`subject: place`) has only yes_no items: each "
                    "is answered observed / not observed / could not check",
                )
            if item.dimension is not None:
                self.problem(
                    (*loc, "dimension"),
                    "an observation checklist (`subject: place`) has no ILO/EC dimensions: "
                    "they describe what happened to a person",
                )
        for loc, rule in self.parts.rules:
            if isinstance(rule, IloDimensionsRule):
                self.problem(
                    (*loc, "kind"),
                    "an observation checklist (`subject: place`) cannot use an ilo_dimensions "
                    "rule: the dimensions describe what happened to a person",
                )
        for loc, expr in self.all_expressions():
            for context_loc in _context_locations(loc, expr):
                self.problem(
                    context_loc,
                    "an observation checklist (`subject: place`) concerns no person: a "
                    "condition cannot read a person's age or exploitation type",
                )

    def all_expressions(self) -> list[tuple[Loc, Expression]]:
        found: list[tuple[Loc, Expression]] = []
        for loc, item in self.parts.items:
            if item.show_if is not None:
                found.append(((*loc, "show_if"), item.show_if))
        for loc, rule in self.parts.rules:
            if isinstance(rule, ExpressionRule | FlagRule):
                found.append(((*loc, "when"), rule.when))
        for loc, outcome in self.parts.outcomes:
            if outcome.when is not None:
                found.append(((*loc, "when"), outcome.when))
        return found

    # --- sources and local policies ---------------------------------------------------------

    def check_citations(self) -> None:
        languages = self.parts.languages
        for index, language in enumerate(languages):
            if language in languages[:index]:
                self.problem(("languages", index), f"language `{language}` is listed twice")
        seen: set[str] = set()
        for loc, entry in [*self.parts.sources, *self.parts.local_policies]:
            if entry.key in seen:
                self.problem(
                    (*loc, "key"),
                    f"`{entry.key}` is declared twice (sources and local policies share one "
                    "set of keys)",
                )
            seen.add(entry.key)

    def cite(self, loc: Loc, key: str) -> None:
        if key in self.source_keys or key in self.policy_keys:
            return
        if key in self.parts.broken_citations:
            return
        self.problem(loc, f"`{key}` is not a declared source or local policy key")

    # --- sections and items -----------------------------------------------------------------

    def check_sections(self) -> None:
        seen: set[str] = set()
        for loc, section in self.parts.sections:
            if section.key in seen:
                self.problem((*loc, "key"), f"section key `{section.key}` is used twice")
            seen.add(section.key)

    def check_items(self) -> None:
        seen: set[str] = set()
        for loc, item in self.parts.items:
            if item.key in seen:
                self.problem((*loc, "key"), f"item key `{item.key}` is used twice")
            seen.add(item.key)
            self.check_item(loc, item)

    def check_item(self, loc: Loc, item: Item) -> None:
        if item.response_type in CHOICE_TYPES:
            if not item.options:
                self.problem((*loc, "options"), f"a {item.response_type} item needs options")
        elif item.options is not None:
            self.problem(
                (*loc, "options"),
                "options are only allowed for single_choice and multiple_choice items",
            )
        option_keys: set[str] = set()
        for index, option in enumerate(item.options or ()):
            option_loc = (*loc, "options", index, "key")
            if option.key in option_keys:
                self.problem(option_loc, f"option key `{option.key}` is used twice")
            if option.key in NON_ANSWERS:
                self.problem(
                    option_loc, f"`{option.key}` is reserved for answers that are not given"
                )
            option_keys.add(option.key)

        if item.dimension is not None and item.strength is None:
            self.problem((*loc, "strength"), "an item with a dimension needs a strength")
        if item.strength is not None and item.dimension is None:
            self.problem((*loc, "dimension"), "an item with a strength needs a dimension")
        if item.dimension is not None and item.response_type != "yes_no":
            self.problem(
                (*loc, "dimension"), "only yes_no items can be ILO/EC dimension indicators"
            )
        self.cite((*loc, "source"), item.source)
        if item.show_if is not None:
            scope = _Scope("show_if", self.parts.item_order.get(item.key, 0), item.key)
            self.expression((*loc, "show_if"), item.show_if, scope)

    # --- rules ------------------------------------------------------------------------------

    def check_rules(self) -> None:
        seen: set[str] = set()
        ilo_seen = False
        for index, (loc, rule) in enumerate(self.parts.rules):
            if rule.key in seen:
                self.problem((*loc, "key"), f"rule key `{rule.key}` is used twice")
            seen.add(rule.key)
            self.cite((*loc, "source"), rule.source)
            scope = _Scope("rule", self.parts.rule_order.get(rule.key, index), rule.key)
            if isinstance(rule, CountRule):
                self.check_count(loc, rule)
            elif isinstance(rule, WeightedSumRule):
                self.check_weighted_sum(loc, rule)
            elif isinstance(rule, IloDimensionsRule):
                if ilo_seen:
                    self.problem((*loc, "kind"), "only one ilo_dimensions rule is allowed")
                ilo_seen = True
                for number, combination in enumerate(rule.combinations):
                    if not combination.label():
                        self.problem(
                            (*loc, "combinations", number),
                            "a combination needs at least one count above 0",
                        )
            elif isinstance(rule, ExpressionRule | FlagRule):
                self.expression((*loc, "when"), rule.when, scope)

    def yes_no_item(self, loc: Loc, key: str, what: str) -> bool:
        """Check that `key` names a yes_no item; False when it does not."""
        item = self.items.get(key)
        if item is None:
            if key not in self.parts.broken_items:
                self.problem(loc, f"{what} `{key}` is not an item of this instrument")
            return False
        if item.response_type != "yes_no":
            self.problem(loc, f"{what} `{key}` is a {item.response_type} item, not yes_no")
            return False
        return True

    def check_count(self, loc: Loc, rule: CountRule) -> None:
        select = rule.select
        chosen = [
            name
            for name, value in (
                ("items", select.items),
                ("domains", select.domains),
                ("all", select.all),
            )
            if value is not None
        ]
        if len(chosen) != 1:
            self.problem((*loc, "select"), "select needs exactly one of: items, domains, all: true")
            return
        complete = not self.parts.incomplete
        if select.items is not None:
            selectable = 0
            for index, key in enumerate(select.items):
                item_loc = (*loc, "select", "items", index)
                if key in select.items[:index]:
                    self.problem(item_loc, f"item `{key}` is selected twice")
                elif self.yes_no_item(item_loc, key, "item"):
                    selectable += 1
                else:
                    complete = False  # reported; the threshold check would only repeat it
        elif select.domains is not None:
            selectable = 0
            for index, domain in enumerate(select.domains):
                if not self.yes_no_in_domain[domain] and not self.parts.incomplete:
                    self.problem(
                        (*loc, "select", "domains", index),
                        f"no yes_no item is in domain `{domain}`",
                    )
                selectable += self.yes_no_in_domain[domain]
        else:
            selectable = sum(self.yes_no_in_domain.values())
        if rule.threshold > selectable and complete:
            self.problem(
                (*loc, "threshold"),
                f"threshold {rule.threshold} can never be reached: only {selectable} yes_no "
                "item(s) are selected",
            )

    def check_weighted_sum(self, loc: Loc, rule: WeightedSumRule) -> None:
        for key in rule.weights:
            self.yes_no_item((*loc, "weights", key), key, "weighted item")
        band_keys: set[str] = set()
        previous: float | None = None
        for index, band in enumerate(rule.bands):
            if band.key in band_keys:
                self.problem((*loc, "bands", index, "key"), f"band key `{band.key}` is used twice")
            band_keys.add(band.key)
            if index == 0 and band.min != 0:
                self.problem((*loc, "bands", 0, "min"), "the first band must start at min 0")
            if previous is not None and band.min <= previous:
                self.problem(
                    (*loc, "bands", index, "min"),
                    "band minimums must increase from one band to the next",
                )
            previous = band.min

    # --- outcomes ---------------------------------------------------------------------------

    def check_outcomes(self) -> None:
        seen: set[str] = set()
        for index, (loc, outcome) in enumerate(self.parts.outcomes):
            if outcome.key in seen:
                self.problem((*loc, "key"), f"outcome key `{outcome.key}` is used twice")
            seen.add(outcome.key)
            if outcome.key == INDETERMINATE:
                self.problem((*loc, "key"), f"`{INDETERMINATE}` is reserved for undecided results")
            first = loc == ("outcomes", 0)
            if first and outcome.when is not None:
                self.problem(
                    (*loc, "when"),
                    "the first (least concerning) outcome applies when nothing else does: "
                    "it has no `when`",
                )
            if not first and outcome.when is None:
                self.problem(
                    (*loc, "when"), "every outcome after the first needs a `when` expression"
                )
            policy = outcome.policy
            if (
                policy is not None
                and policy not in self.policy_keys
                and policy not in self.parts.broken_citations
            ):
                self.problem((*loc, "policy"), f"`{policy}` is not a declared local policy")
            if outcome.when is not None:
                self.expression((*loc, "when"), outcome.when, _Scope("outcome", index))

    # --- provenance and validation figures ---------------------------------------------------

    def check_provenance(self) -> None:
        required = self.parts.version_provenance is not None
        for loc, item in self.parts.items:
            self.provenance_entry(loc, item.provenance, required, "item")
        for loc, rule in self.parts.rules:
            # A rule of this service's own (citing a local policy) has no publication to check.
            cites_source = rule.source in self.source_keys
            self.provenance_entry(loc, rule.provenance, required and cites_source, "rule")

    def provenance_entry(
        self, loc: Loc, provenance: Provenance | None, required: bool, what: str
    ) -> None:
        if provenance is None:
            if required:
                self.problem(
                    (*loc, "provenance"),
                    f"this version has a `provenance` block: every {what} says what it was "
                    "checked against (confirmed, secondary_only or not_confirmed)",
                )
            return
        ploc = (*loc, "provenance")
        if provenance.status == "not_confirmed":
            if provenance.by:
                self.problem(
                    (*ploc, "by"),
                    "a not_confirmed entry names no confirming source; say in `note` what "
                    "was tried",
                )
            if provenance.note is None:
                self.problem((*ploc, "note"), "a not_confirmed entry says in `note` what was tried")
            return
        if not provenance.by:
            self.problem(
                (*ploc, "by"),
                f"a {provenance.status} entry must name the source(s) it was checked against",
            )
            return
        wanted = "primary" if provenance.status == "confirmed" else "secondary"
        for index, key in enumerate(provenance.by):
            key_loc = (*ploc, "by", index)
            if key in self.policy_keys:
                self.problem(key_loc, f"`{key}` is a local policy, not a published source")
            elif key not in self.source_keys:
                if key not in self.parts.broken_citations:
                    self.problem(key_loc, f"`{key}` is not a declared source key")
            elif self.source_kinds.get(key) is None:
                self.problem(key_loc, f"source `{key}` needs `kind: primary` or `kind: secondary`")
            elif self.source_kinds[key] != wanted:
                self.problem(
                    key_loc,
                    f"a {provenance.status} entry is checked against {wanted} sources; "
                    f"`{key}` is {self.source_kinds[key]}",
                )

    def check_validations(self) -> None:
        for loc, validation in self.parts.validations:
            if validation.source in self.policy_keys:
                self.problem(
                    (*loc, "source"),
                    f"`{validation.source}` is a local policy, not a published validation",
                )
            else:
                self.cite((*loc, "source"), validation.source)
            low, high = validation.age_min, validation.age_max
            if low is not None and high is not None and low > high:
                self.problem((*loc, "age_max"), "age_max is below age_min")

    # --- expressions ------------------------------------------------------------------------

    def expression(self, loc: Loc, expr: Expression, scope: _Scope) -> None:
        if isinstance(expr, AnyExpr | AllExpr):
            children = expr.any if isinstance(expr, AnyExpr) else expr.all
            head = "any" if isinstance(expr, AnyExpr) else "all"
            for index, child in enumerate(children):
                self.expression((*loc, head, index), child, scope)
            return
        if isinstance(expr, NotExpr):
            self.expression((*loc, "not"), expr.not_, scope)
            return
        if isinstance(expr, ItemExpr):
            self.item_expression(loc, expr, scope)
            return
        if isinstance(expr, ContextExpr):
            self.context_expression(loc, expr)
            return
        if scope.kind == "show_if":
            self.problem(
                loc, "show_if may only use item and context conditions (and any / all / not)"
            )
            return
        if isinstance(expr, DomainExpr):
            available = self.yes_no_in_domain[expr.domain]
            if self.parts.incomplete:
                return
            if not available:
                self.problem((*loc, "domain"), f"no yes_no item is in domain `{expr.domain}`")
            elif expr.min_yes > available:
                self.problem(
                    (*loc, "min_yes"),
                    f"min_yes {expr.min_yes} can never hold: domain `{expr.domain}` has "
                    f"{available} yes_no item(s)",
                )
        elif isinstance(expr, DimensionExpr):
            self.dimension_expression(loc, expr, scope)
        elif isinstance(expr, RuleExpr):
            self.rule_expression(loc, expr, scope)

    def item_expression(self, loc: Loc, expr: ItemExpr, scope: _Scope) -> None:
        key = expr.item
        item = self.items.get(key)
        if item is None:
            if key not in self.parts.broken_items:
                self.problem((*loc, "item"), f"`{key}` is not an item of this instrument")
            return
        if scope.kind == "show_if" and self.parts.item_order.get(key, 0) >= scope.position:
            self.problem(
                (*loc, "item"),
                f"show_if may only refer to items asked before `{scope.owner}`",
            )
        if expr.op is None and expr.value is not None:
            self.problem((*loc, "op"), "a value needs an op")
        kind = item.response_type
        if kind == "yes_no":
            for name in ("equals", "op"):
                if getattr(expr, name) is not None:
                    self.problem(
                        (*loc, name),
                        f"`{key}` is a yes_no item: write {{item: {key}}} for a yes answer",
                    )
        elif kind in CHOICE_TYPES:
            if expr.op is not None:
                self.problem((*loc, "op"), f"`{key}` is a {kind} item: use equals, not op")
            if expr.equals is None:
                self.problem(loc, f"`{key}` is a {kind} item: say which option with `equals`")
            elif expr.equals not in {option.key for option in item.options or ()}:
                self.problem((*loc, "equals"), f"`{expr.equals}` is not an option of `{key}`")
        elif kind == "number":
            if expr.equals is not None:
                self.problem((*loc, "equals"), f"`{key}` is a number item: use op and value")
            if expr.op is None:
                self.problem(loc, f"`{key}` is a number item: compare it with op and value")
            elif expr.value is None:
                self.problem((*loc, "value"), "an op needs a value")
        else:
            self.problem((*loc, "item"), f"`{key}` is a {kind} item: it cannot be used here")

    def context_expression(self, loc: Loc, expr: ContextExpr) -> None:
        if expr.context == "age":
            if isinstance(expr.value, str):
                self.problem((*loc, "value"), "age is compared with a number")
            return
        if expr.op not in ("eq", "ne"):
            self.problem((*loc, "op"), "exploitation_type is compared with eq or ne")
        allowed = [value for value in EXPLOITATION_TYPES if value != UNKNOWN]
        if expr.value not in allowed:
            self.problem(
                (*loc, "value"), "exploitation_type is compared with one of: " + ", ".join(allowed)
            )

    def dimension_expression(self, loc: Loc, expr: DimensionExpr, scope: _Scope) -> None:
        if self.ilo_position is None:
            self.problem(
                (*loc, "dimension"), "{dimension: …} needs an ilo_dimensions rule in the rules"
            )
            return
        if scope.kind == "rule" and self.ilo_position >= scope.position:
            self.problem(
                (*loc, "dimension"),
                f"rule `{scope.owner}` comes before the ilo_dimensions rule it depends on",
            )
        if not self.items_in_dimension[expr.dimension] and not self.parts.incomplete:
            self.problem(
                (*loc, "dimension"), f"no item is an indicator of dimension `{expr.dimension}`"
            )

    def rule_expression(self, loc: Loc, expr: RuleExpr, scope: _Scope) -> None:
        key = expr.rule
        position = self.parts.rule_order.get(key)
        if position is None:
            self.problem((*loc, "rule"), f"`{key}` is not a rule of this instrument")
            return
        if scope.kind == "rule" and position >= scope.position:
            self.problem((*loc, "rule"), "a rule may only refer to rules listed before it")
        found = self.rules.get(key)
        if found is None:  # that rule failed validation; already reported
            return
        rule = found[1]
        if isinstance(rule, WeightedSumRule):
            bands = [band.key for band in rule.bands]
            if expr.at_least is None:
                self.problem(
                    (*loc, "at_least"),
                    f"`{key}` is a weighted_sum rule: say which band with at_least "
                    f"({', '.join(bands)})",
                )
            elif expr.at_least not in bands:
                self.problem((*loc, "at_least"), f"`{expr.at_least}` is not a band of rule `{key}`")
        elif isinstance(rule, CountRule | ExpressionRule):
            if expr.at_least is not None:
                self.problem((*loc, "at_least"), "at_least is only for weighted_sum rules")
        elif isinstance(rule, IloDimensionsRule):
            self.problem((*loc, "rule"), "refer to ILO/EC dimensions with {dimension: …}")
        else:
            self.problem((*loc, "rule"), "flag rules raise flags; they cannot be referred to")


def _context_locations(loc: Loc, expr: Expression) -> list[Loc]:
    """Where `{context: …}` conditions sit inside `expr`."""
    if isinstance(expr, ContextExpr):
        return [(*loc, "context")]
    if isinstance(expr, AnyExpr | AllExpr):
        head = "any" if isinstance(expr, AnyExpr) else "all"
        children = expr.any if isinstance(expr, AnyExpr) else expr.all
        return [
            found
            for index, child in enumerate(children)
            for found in _context_locations((*loc, head, index), child)
        ]
    if isinstance(expr, NotExpr):
        return _context_locations((*loc, "not"), expr.not_)
    return []
