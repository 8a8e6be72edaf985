"""Routing rules as data: the file format (seeds/routing/*.yaml), its validation and the pure
evaluation of conditions over a screening's result and the case. No database here.

A file:

    slug: default-routing
    version: 1
    status: published
    title: "…"
    rules:
      - key: minor_child_welfare
        text: "Why this rule exists, as a person would read it."
        when: {any: [{flag: minor}, {case: age_band, op: eq, value: minor}]}
        refer:
          - {service_type: child_welfare, priority: urgent, mandatory: true}

Conditions (two-valued; a missing fact is simply not met):

    {outcome: [indicated, possible]}        outcome in force is one of these
    {flag: minor}                           the result raised this flag
    {possible_flag: minor}                  the flag is possible (unanswered items)
    {domain: debt_bondage}                  the domain is present
    {case: age, op: lt, value: 18}          case attribute comparison (op: eq ne lt lte gt gte in)
    {any: [...]}  {all: [...]}  {not: ...}  {always: true}

A rule may name the `subject` it is for: `person` (a screening of a person) or `place` (an
observation checklist of a place, docs/observation-checklists.md); without it the rule is read
for every screening. Whatever the rules say, a place is referred only to the services that act
on a place (`PLACE_SERVICE_TYPES`): a building gets no shelter or medical care.
"""

from __future__ import annotations

import hashlib
import json
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    model_serializer,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError

from indicators.engine.vocabulary import DOMAINS, FLAGS
from referrals.models import Priority, ServiceType

CASE_ATTRIBUTES = (
    "age",
    "age_band",
    "gender",
    "exploitation_type",
    "region",
    "nationality",
    "languages",
    "urgent",
    "mandatory_report_required",
)
PRIORITY_NAMES = {label.name.lower(): label.value for label in Priority}
# The services an observation of a place can be referred to: they act on premises and
# operators, never on a person (a worker met there gets their own screening and referrals).
PLACE_SERVICE_TYPES = (
    ServiceType.LAW_ENFORCEMENT_ATU,
    ServiceType.LABOUR_INSPECTORATE,
    ServiceType.LAW_ENFORCEMENT_LIAISON,
)
PERSON, PLACE = "person", "place"

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
    "in": lambda left, right: left in right,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OutcomeCond(_Strict):
    outcome: list[str] = Field(min_length=1)


class FlagCond(_Strict):
    flag: Literal[FLAGS]  # type: ignore[valid-type]


class PossibleFlagCond(_Strict):
    possible_flag: Literal[FLAGS]  # type: ignore[valid-type]


class DomainCond(_Strict):
    domain: Literal[DOMAINS]  # type: ignore[valid-type]


class CaseCond(_Strict):
    case: Literal[CASE_ATTRIBUTES]  # type: ignore[valid-type]
    op: Literal["eq", "ne", "lt", "lte", "gt", "gte", "in"] = "eq"
    value: str | int | bool | list[str]


class AlwaysCond(_Strict):
    always: Literal[True]


class AnyCond(_Strict):
    any: list[Condition] = Field(min_length=1)


class AllCond(_Strict):
    all: list[Condition] = Field(min_length=1)


class NotCond(_Strict):
    not_: Condition = Field(alias="not")


Condition = Annotated[
    OutcomeCond
    | FlagCond
    | PossibleFlagCond
    | DomainCond
    | CaseCond
    | AlwaysCond
    | AnyCond
    | AllCond
    | NotCond,
    Field(union_mode="left_to_right"),
]
for _model in (AnyCond, AllCond, NotCond):
    _model.model_rebuild()


class Refer(_Strict):
    service_type: Literal[tuple(ServiceType.values)]  # type: ignore[valid-type]
    priority: Literal[tuple(PRIORITY_NAMES)] = "normal"  # type: ignore[valid-type]
    mandatory: bool = False
    providers: int = Field(default=1, ge=1, le=5)


class RoutingRule(_Strict):
    key: str = Field(pattern=r"^[a-z0-9_]+$")
    text: str = Field(min_length=1)
    # None: the rule is read for every screening (every version written before the field).
    subject: Literal["person", "place"] | None = None
    when: Condition
    refer: list[Refer] = Field(min_length=1)

    @model_validator(mode="after")
    def _place_services(self) -> RoutingRule:
        if self.subject == PLACE:
            wrong = [
                r.service_type for r in self.refer if r.service_type not in PLACE_SERVICE_TYPES
            ]
            if wrong:
                raise ValueError(
                    "a rule for a place (subject: place) refers only to "
                    + ", ".join(PLACE_SERVICE_TYPES)
                    + f"; not {', '.join(wrong)}"
                )
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> Any:
        # Left out while empty: a version stored before the field keeps its content hash.
        data = handler(self)
        if isinstance(data, dict) and data.get("subject") is None:
            data.pop("subject", None)
        return data


class RoutingDefinition(_Strict):
    slug: str = Field(pattern=r"^[a-z0-9-]+$")
    version: int = Field(ge=1)
    status: Literal["published", "draft"]
    title: str = Field(min_length=1)
    rules: list[RoutingRule] = Field(min_length=1)

    def content_hash(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class RoutingProblem:
    file: str
    rule: str | None
    field: str
    message: str
    line: int | None = None  # in the YAML text, when the problem came from one

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: rule={self.rule or '-'} field={self.field or '-'}: {self.message}"


class RoutingFileError(ValueError):
    def __init__(self, problems: list[RoutingProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


_DEFINITION: TypeAdapter[RoutingDefinition] = TypeAdapter(RoutingDefinition)


# A condition is told apart by its key; a problem inside one is reported for that kind only,
# not once for each of the nine kinds the union tried.
CONDITION_KINDS = {
    "outcome": "OutcomeCond",
    "flag": "FlagCond",
    "possible_flag": "PossibleFlagCond",
    "domain": "DomainCond",
    "case": "CaseCond",
    "always": "AlwaysCond",
    "any": "AnyCond",
    "all": "AllCond",
    "not": "NotCond",
}
_CONDITION_MODELS = frozenset(CONDITION_KINDS.values())
NOT_A_CONDITION = "not a condition: it needs one of the keys " + ", ".join(CONDITION_KINDS)


def _condition_kind(node: Any) -> str | None:
    if not isinstance(node, dict):
        return None
    if "case" in node:
        return "CaseCond"
    return next((CONDITION_KINDS[key] for key in CONDITION_KINDS if key in node), None)


def _reduced_errors(data: Any, errors: list[dict]) -> list[tuple[tuple, str]]:
    """Pydantic's errors as (location without the union's model names, message), keeping for
    each condition only the errors of the kind its key names (a condition with no known key
    is one "not a condition" problem)."""
    reduced: list[tuple[tuple, str]] = []
    for detail in errors:
        node, path, keep, message = data, [], True, detail["msg"]
        for part in detail["loc"]:
            if isinstance(part, str) and part in _CONDITION_MODELS:
                kind = _condition_kind(node)
                if kind is None:
                    message = NOT_A_CONDITION
                    break
                if kind != part:
                    keep = False
                    break
                continue
            path.append(part)
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                node = None
        entry = (tuple(path), message)
        if keep and entry not in reduced:
            reduced.append(entry)
    return reduced


def parse_routing(data: Any, *, origin: str) -> RoutingDefinition:
    """Validate a loaded mapping; every problem names the file, the rule key and the field."""
    try:
        definition = _DEFINITION.validate_python(data)
    except PydanticValidationError as error:
        problems = []
        for loc, message in _reduced_errors(data, error.errors()):
            rule = None
            if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
                rules = data.get("rules") if isinstance(data, dict) else None
                if isinstance(rules, list) and loc[1] < len(rules):
                    entry = rules[loc[1]]
                    rule = entry.get("key") if isinstance(entry, dict) else None
                rule = rule or f"#{loc[1] + 1}"
            problems.append(
                RoutingProblem(origin, rule, ".".join(str(part) for part in loc), message)
            )
        raise RoutingFileError(problems) from None
    seen: set[str] = set()
    duplicates = []
    for index, rule in enumerate(definition.rules):
        if rule.key in seen:
            duplicates.append(
                RoutingProblem(origin, rule.key, f"rules.{index}.key", "rule key used twice")
            )
        seen.add(rule.key)
    if duplicates:
        raise RoutingFileError(duplicates)
    return definition


def load_routing_file(path: str | Path) -> RoutingDefinition:
    path = Path(path)
    origin = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise RoutingFileError(
            [RoutingProblem(origin, None, "", f"cannot read: {error}")]
        ) from None
    definition = parse_routing(data, origin=origin)
    expected = f"{definition.slug}.v{definition.version}.yaml"
    if path.name != expected:
        raise RoutingFileError(
            [RoutingProblem(origin, None, "slug", f"the file name must be `{expected}`")]
        )
    return definition


@dataclass(frozen=True)
class RoutingFacts:
    """What rules may look at: the outcome in force, the result and the case attributes."""

    outcome: str
    flags: frozenset[str]
    possible_flags: frozenset[str]
    domains_present: frozenset[str]
    case: Mapping[str, Any]
    # `place` for an observation checklist: its stored result carries `observations`.
    subject: str = PERSON

    @classmethod
    def from_result(
        cls, *, outcome: str, result: Mapping[str, Any], case: Mapping[str, Any]
    ) -> RoutingFacts:
        domains = result.get("domains") or {}
        return cls(
            outcome=outcome,
            flags=frozenset(result.get("flags") or ()),
            possible_flags=frozenset(result.get("possible_flags") or ()),
            domains_present=frozenset(
                key for key, value in domains.items() if value.get("status") == "present"
            ),
            case=dict(case),
            subject=PLACE if result.get("observations") is not None else PERSON,
        )


def holds(condition: Any, facts: RoutingFacts) -> bool:
    """Evaluate one validated condition."""
    match condition:
        case OutcomeCond(outcome=outcomes):
            return facts.outcome in outcomes
        case FlagCond(flag=flag):
            return flag in facts.flags
        case PossibleFlagCond(possible_flag=flag):
            return flag in facts.flags or flag in facts.possible_flags
        case DomainCond(domain=domain):
            return domain in facts.domains_present
        case CaseCond(case=attribute, op=op, value=value):
            actual = facts.case.get(attribute)
            if actual is None or actual == "":
                return False
            if attribute == "languages":
                wanted = value if isinstance(value, list) else [value]
                return bool(set(actual) & set(wanted)) == (op != "ne")
            try:
                return _OPS[op](actual, value)
            except TypeError:
                return False
        case AlwaysCond():
            return True
        case AnyCond(any=conditions):
            return any(holds(part, facts) for part in conditions)
        case AllCond(all=conditions):
            return all(holds(part, facts) for part in conditions)
        case NotCond(not_=inner):
            return not holds(inner, facts)
    raise TypeError(f"not a routing condition: {type(condition).__name__}")


@dataclass(frozen=True)
class ServiceNeed:
    service_type: str
    priority: int
    mandatory: bool
    providers: int
    rule_key: str


def evaluate_rules(definition: RoutingDefinition, facts: RoutingFacts) -> list[ServiceNeed]:
    """Service needs the rules raise, one per service type: the most pressing priority wins and
    mandatory wins over optional."""
    needs: dict[str, ServiceNeed] = {}
    for rule in definition.rules:
        if rule.subject is not None and rule.subject != facts.subject:
            continue
        if not holds(rule.when, facts):
            continue
        for refer in rule.refer:
            if facts.subject == PLACE and refer.service_type not in PLACE_SERVICE_TYPES:
                continue
            need = ServiceNeed(
                service_type=refer.service_type,
                priority=PRIORITY_NAMES[refer.priority],
                mandatory=refer.mandatory,
                providers=refer.providers,
                rule_key=rule.key,
            )
            current = needs.get(need.service_type)
            if current is None:
                needs[need.service_type] = need
            else:
                needs[need.service_type] = ServiceNeed(
                    service_type=need.service_type,
                    priority=min(current.priority, need.priority),
                    mandatory=current.mandatory or need.mandatory,
                    providers=max(current.providers, need.providers),
                    rule_key=current.rule_key,
                )
    return sorted(needs.values(), key=lambda need: (need.priority, need.service_type))
