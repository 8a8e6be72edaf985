"""Pydantic models of one instrument version: shape and types only.

Cross-references (a rule naming an item, a source key, the language set…) are checked in
`checks.py`, which can see the whole file; `schema.parse_instrument` runs both.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    RootModel,
    SerializerFunctionWrapHandler,
    StringConstraints,
    Tag,
    ValidationInfo,
    model_serializer,
    model_validator,
)

from .vocabulary import (
    DIMENSIONS,
    PLACE,
    SUBJECTS,
    Audience,
    ContextKey,
    Dimension,
    Domain,
    Flag,
    Op,
    ProvenanceStatus,
    ResponseType,
    SourceKind,
    Status,
    Strength,
    Subject,
)

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
KEY_PATTERN = r"^[a-z0-9_]+$"
REFERENCE_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
Key = Annotated[str, StringConstraints(pattern=KEY_PATTERN)]
# Sources and local policies are cited by key from items and rules (`ilo-ec-2009`).
ReferenceKey = Annotated[str, StringConstraints(pattern=REFERENCE_PATTERN)]
Language = Annotated[str, StringConstraints(pattern=LANGUAGE_PATTERN)]
Text = Annotated[str, StringConstraints(min_length=1)]


def _number(value: Any) -> int | float:
    # YAML reads `yes`/`no` as booleans, and bool is an int in Python: refuse it here.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("Input should be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("Input should be a finite number")
    return value


def _non_negative(value: int | float) -> int | float:
    if value < 0:
        raise ValueError("Input should be greater than or equal to 0")
    return value


def _number_or_text(value: Any) -> int | float | str:
    return value if isinstance(value, str) else _number(value)


def _subject(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and value in SUBJECTS):
        return value
    raise ValueError(
        "`subject` is `person` (a conversation with a person; the default) or `place` "
        "(an observation checklist: what the officer observes about a place)"
    )


# A plain validator: one clear message instead of a union's two (literal, none).
SubjectField = Annotated[Subject | None, PlainValidator(_subject)]
Number = Annotated[int | float, PlainValidator(_number)]
NonNegative = Annotated[int | float, PlainValidator(_number), AfterValidator(_non_negative)]
NumberOrText = Annotated[int | float | str, PlainValidator(_number_or_text)]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        serialize_by_alias=True,
        validate_by_alias=True,
        validate_by_name=False,
    )

    # Fields added to the format after versions were published: left out of the dump (and so
    # of the content hash) while empty, so every published version keeps the hash it had.
    omit_when_empty: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if self.omit_when_empty and isinstance(data, dict):
            for name in self.omit_when_empty:
                if name in data and data[name] in (None, []):
                    del data[name]
        return data


class LocalisedText(RootModel[dict[Language, Text]]):
    """Text in every language of the instrument: `{en: "…", es: "…"}`."""

    model_config = ConfigDict(strict=True, frozen=True)

    @model_validator(mode="after")
    def _every_language(self, info: ValidationInfo) -> LocalisedText:
        # Without the file's language list (validation outside parse_instrument) only the
        # always-required English can be checked.
        declared = (info.context or {}).get("languages")
        required = set(declared or ()) | {"en"}
        missing = sorted(required - self.root.keys())
        extra = sorted(self.root.keys() - required) if declared is not None else []
        problems = []
        if missing:
            problems.append("missing language(s): " + ", ".join(missing))
        if extra:
            problems.append("language(s) not declared in `languages`: " + ", ".join(extra))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def en(self) -> str:
        return self.root["en"]

    def get(self, language: str) -> str:
        """The text in `language`, falling back to English."""
        return self.root.get(language, self.root["en"])


# --- expressions -----------------------------------------------------------------------------


class ItemExpr(_Model):
    """`{item: k}`, `{item: k, equals: option}` or `{item: k, op: gte, value: 3}`."""

    item: Key
    equals: Key | None = None
    op: Op | None = None
    value: Number | None = None


class ContextExpr(_Model):
    """`{context: age, op: lt, value: 18}`."""

    context: ContextKey
    op: Op
    value: NumberOrText


class DomainExpr(_Model):
    """`{domain: d, min_yes: n}`: at least n "yes" items in domain d."""

    domain: Domain
    min_yes: int = Field(default=1, ge=1)


class DimensionExpr(_Model):
    """`{dimension: d}`: the ILO/EC dimension d is positive."""

    dimension: Dimension


class RuleExpr(_Model):
    """`{rule: k}` (count / expression rule holds) or `{rule: k, at_least: band}`."""

    rule: Key
    at_least: Key | None = None


class AnyExpr(_Model):
    any: list[Expression] = Field(min_length=1)


class AllExpr(_Model):
    all: list[Expression] = Field(min_length=1)


class NotExpr(_Model):
    not_: Expression = Field(alias="not")


_EXPRESSION_HEADS = {
    "item": "ItemExpr",
    "context": "ContextExpr",
    "domain": "DomainExpr",
    "dimension": "DimensionExpr",
    "rule": "RuleExpr",
    "any": "AnyExpr",
    "all": "AllExpr",
    "not": "NotExpr",
}


def _expression_tag(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return type(value).__name__
    if not isinstance(value, dict):
        return None
    heads = [head for head in _EXPRESSION_HEADS if head in value]
    return _EXPRESSION_HEADS[heads[0]] if len(heads) == 1 else None


Expression = Annotated[
    Annotated[ItemExpr, Tag("ItemExpr")]
    | Annotated[ContextExpr, Tag("ContextExpr")]
    | Annotated[DomainExpr, Tag("DomainExpr")]
    | Annotated[DimensionExpr, Tag("DimensionExpr")]
    | Annotated[RuleExpr, Tag("RuleExpr")]
    | Annotated[AnyExpr, Tag("AnyExpr")]
    | Annotated[AllExpr, Tag("AllExpr")]
    | Annotated[NotExpr, Tag("NotExpr")],
    Discriminator(
        _expression_tag,
        custom_error_type="expression",
        custom_error_message=(
            "an expression is a mapping with exactly one of: " + ", ".join(_EXPRESSION_HEADS)
        ),
    ),
]

for _model in (AnyExpr, AllExpr, NotExpr):
    _model.model_rebuild()


# --- sources, items, sections ----------------------------------------------------------------


class Source(_Model):
    omit_when_empty = frozenset({"kind"})

    key: ReferenceKey
    title: Text
    publisher: Text
    year: int = Field(ge=1800, le=2200)
    section: Text
    note: Text | None = None
    # primary: the publication itself (or its publisher's abstract); secondary: a summary or
    # reproduction by someone else. Needed by any source that a provenance entry names.
    kind: SourceKind | None = None


class Provenance(_Model):
    """What an item (its wording and, for an ILO/EC indicator, its grade) or a rule was checked
    against. `confirmed` names the primary source(s) that show it; `secondary_only` names the
    secondary source(s) that agree while the primary text could not be read; `not_confirmed`
    names none and says in `note` what was tried."""

    omit_when_empty = frozenset({"by", "note"})

    status: ProvenanceStatus
    by: list[ReferenceKey] = Field(default_factory=list)
    note: Text | None = None


class VersionProvenance(_Model):
    """When the version was checked against its publications, and the overall finding."""

    checked_on: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    note: Text


class Validation(_Model):
    """A published validation of the screen: figures and the population they hold for."""

    omit_when_empty = frozenset({"settings"})

    source: ReferenceKey
    population: Text  # who, where, when: shown to staff next to the figures
    n: int = Field(ge=1)
    sensitivity: Annotated[float | int, Field(ge=0, le=100)]
    specificity: Annotated[float | int, Field(ge=0, le=100)] | None = None
    age_min: int | None = Field(default=None, ge=0, le=120)
    age_max: int | None = Field(default=None, ge=0, le=120)
    # Where it was validated, as the setting keys of the service that records screenings
    # (e.g. shelter, clinic); the result page cautions when a screening took place elsewhere.
    settings: list[Key] = Field(default_factory=list)


class LocalPolicy(_Model):
    key: ReferenceKey
    text: LocalisedText


class Option(_Model):
    key: Key
    label: LocalisedText


class Item(_Model):
    omit_when_empty = frozenset({"provenance"})

    key: Key
    prompt: LocalisedText
    why: LocalisedText | None = None
    response_type: ResponseType
    options: list[Option] | None = None
    domain: Domain
    dimension: Dimension | None = None
    strength: Strength | None = None
    source: ReferenceKey
    show_if: Expression | None = None
    provenance: Provenance | None = None


class SectionHeader(_Model):
    key: Key
    title: LocalisedText
    intro: LocalisedText | None = None


class Section(SectionHeader):
    items: list[Item] = Field(min_length=1)


# --- rules -----------------------------------------------------------------------------------


class _RuleBase(_Model):
    omit_when_empty = frozenset({"provenance"})

    key: Key
    text: LocalisedText
    source: ReferenceKey
    provenance: Provenance | None = None


class CountSelect(_Model):
    """Exactly one of `items`, `domains` or `all: true` (checked in checks.py)."""

    items: list[Key] | None = Field(default=None, min_length=1)
    domains: list[Domain] | None = Field(default=None, min_length=1)
    all: Literal[True] | None = None


class CountRule(_RuleBase):
    kind: Literal["count"]
    select: CountSelect
    threshold: int = Field(ge=1)


class Band(_Model):
    key: Key
    min: NonNegative


class WeightedSumRule(_RuleBase):
    kind: Literal["weighted_sum"]
    weights: dict[Key, NonNegative] = Field(min_length=1)
    bands: list[Band] = Field(min_length=1)


class Combination(_Model):
    """Minimum numbers of "yes" indicators of each grade, all required together."""

    strong: int = Field(default=0, ge=0)
    medium: int = Field(default=0, ge=0)
    weak: int = Field(default=0, ge=0)
    medium_or_weak: int = Field(default=0, ge=0)

    def label(self) -> str:
        """`strong:1+medium_or_weak:1`."""
        parts = [
            f"{grade}:{count}"
            for grade, count in (
                ("strong", self.strong),
                ("medium", self.medium),
                ("weak", self.weak),
                ("medium_or_weak", self.medium_or_weak),
            )
            if count
        ]
        return "+".join(parts)

    def words(self) -> str:
        """`one strong and one medium or weak indicator`: the label as a person reads it."""
        names = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}
        parts = [
            f"{names.get(count, count)} {grade.replace('_', ' ')}"
            for grade, count in (
                ("strong", self.strong),
                ("medium", self.medium),
                ("weak", self.weak),
                ("medium_or_weak", self.medium_or_weak),
            )
            if count
        ]
        total = self.strong + self.medium + self.weak + self.medium_or_weak
        return " and ".join(parts) + (
            " indicators" if total > 1 and len(parts) == 1 else " indicator"
        )

    def met_by(self, strong: int, medium: int, weak: int) -> bool:
        # medium_or_weak counts only indicators not already used for `medium` / `weak`.
        return (
            strong >= self.strong
            and medium >= self.medium
            and weak >= self.weak
            and (medium - self.medium) + (weak - self.weak) >= self.medium_or_weak
        )


class IloDimensionsRule(_RuleBase):
    kind: Literal["ilo_dimensions"]
    combinations: list[Combination] = Field(min_length=1)


class ExpressionRule(_RuleBase):
    kind: Literal["expression"]
    when: Expression


class FlagRule(_RuleBase):
    kind: Literal["flag"]
    when: Expression
    flags: list[Flag] = Field(min_length=1)


_RULE_KINDS = {
    "count": "CountRule",
    "weighted_sum": "WeightedSumRule",
    "ilo_dimensions": "IloDimensionsRule",
    "expression": "ExpressionRule",
    "flag": "FlagRule",
}
RULE_KINDS: tuple[str, ...] = tuple(_RULE_KINDS)
# The names pydantic puts in error locations for union members (not fields of the file).
UNION_TAGS = frozenset(_EXPRESSION_HEADS.values()) | frozenset(_RULE_KINDS.values())


def _rule_tag(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return type(value).__name__
    if not isinstance(value, dict):
        return None
    kind = value.get("kind")
    return _RULE_KINDS.get(kind) if isinstance(kind, str) else None


Rule = Annotated[
    Annotated[CountRule, Tag("CountRule")]
    | Annotated[WeightedSumRule, Tag("WeightedSumRule")]
    | Annotated[IloDimensionsRule, Tag("IloDimensionsRule")]
    | Annotated[ExpressionRule, Tag("ExpressionRule")]
    | Annotated[FlagRule, Tag("FlagRule")],
    Discriminator(
        _rule_tag,
        custom_error_type="rule_kind",
        custom_error_message="a rule is a mapping whose `kind` is one of: "
        + ", ".join(_RULE_KINDS),
    ),
]


# --- outcomes and the whole file -------------------------------------------------------------


class Outcome(_Model):
    key: Key
    when: Expression | None = None
    policy: ReferenceKey | None = None
    label: LocalisedText
    description: LocalisedText
    actions: list[LocalisedText] = Field(default_factory=list)


class InstrumentHeader(_Model):
    """The top level of a file with its lists unparsed: lets a broken item or rule be reported
    without hiding the problems of every other part."""

    slug: Slug
    version: int = Field(ge=1)
    status: Status
    title: LocalisedText
    audience: Audience
    subject: SubjectField = None
    purpose: LocalisedText
    languages: list[Language] = Field(min_length=1)
    sources: list[Any] = Field(min_length=1)
    local_policies: list[Any] = Field(default_factory=list)
    provenance: Any = None
    validation: list[Any] = Field(default_factory=list)
    sections: list[Any] = Field(min_length=1)
    rules: list[Any] = Field(default_factory=list)
    outcomes: list[Any] = Field(min_length=1)


@dataclass(frozen=True)
class InstrumentIndex:
    """Lookups derived from a definition, built once per definition."""

    position: dict[str, int]  # item key -> position in section order
    yes_no_in_domain: dict[str, tuple[str, ...]]  # domain -> its yes_no item keys, in order
    in_dimension: dict[str, tuple[Item, ...]]  # ILO/EC dimension -> its indicator items
    ilo_rule: IloDimensionsRule | None
    rules: dict[str, Rule]
    citations: dict[str, Source | LocalPolicy]


class InstrumentDefinition(_Model):
    """One validated instrument version; build it with `schema.parse_instrument`."""

    omit_when_empty = frozenset({"provenance", "validation", "subject"})

    slug: Slug
    version: int = Field(ge=1)
    status: Status
    title: LocalisedText
    audience: Audience
    # None (not in the file) means `person`: every version published before the field existed.
    subject: SubjectField = None
    purpose: LocalisedText
    languages: list[Language] = Field(min_length=1)
    sources: list[Source] = Field(min_length=1)
    local_policies: list[LocalPolicy] = Field(default_factory=list)
    provenance: VersionProvenance | None = None
    validation: list[Validation] = Field(default_factory=list)
    sections: list[Section] = Field(min_length=1)
    rules: list[Rule] = Field(default_factory=list)
    outcomes: list[Outcome] = Field(min_length=1)

    @property
    def is_observation(self) -> bool:
        """An observation checklist of a place, not a conversation with a person."""
        return self.subject == PLACE

    def canonical_json(self) -> str:
        return json.dumps(
            self.model_dump(mode="json"),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )

    def content_hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON: what "this published version" means."""
        return self._content_hash

    @cached_property
    def _content_hash(self) -> str:
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()

    @cached_property
    def items(self) -> tuple[Item, ...]:
        """Every item, in section order."""
        return tuple(item for section in self.sections for item in section.items)

    @cached_property
    def _item_index(self) -> dict[str, Item]:
        return {item.key: item for item in self.items}

    @cached_property
    def index(self) -> InstrumentIndex:
        yes_no: dict[str, list[str]] = {}
        dimensions: dict[str, list[Item]] = {}
        for item in self.items:
            if item.response_type == "yes_no":
                yes_no.setdefault(item.domain, []).append(item.key)
            if item.dimension is not None:
                dimensions.setdefault(item.dimension, []).append(item)
        ilo_rules = [rule for rule in self.rules if isinstance(rule, IloDimensionsRule)]
        return InstrumentIndex(
            position={item.key: position for position, item in enumerate(self.items)},
            yes_no_in_domain={domain: tuple(keys) for domain, keys in yes_no.items()},
            in_dimension={
                dimension: tuple(dimensions[dimension])
                for dimension in DIMENSIONS
                if dimension in dimensions
            },
            ilo_rule=ilo_rules[0] if ilo_rules else None,
            rules={rule.key: rule for rule in self.rules},
            citations={entry.key: entry for entry in [*self.sources, *self.local_policies]},
        )

    def item(self, key: str) -> Item:
        return self._item_index[key]

    def rule(self, key: str) -> Rule:
        return self.index.rules[key]

    def outcome(self, key: str) -> Outcome:
        for outcome in self.outcomes:
            if outcome.key == key:
                return outcome
        raise KeyError(key)

    def outcome_rank(self, key: str) -> int:
        """Position of an outcome band, least concerning = 0."""
        for rank, outcome in enumerate(self.outcomes):
            if outcome.key == key:
                return rank
        raise KeyError(key)

    def citation(self, key: str) -> Source | LocalPolicy:
        """The source or local policy with this key."""
        return self.index.citations[key]
