"""The fixed vocabularies of the instrument file format (docs/instrument-format.md)."""

from typing import Literal, get_args

Domain = Literal[
    "force_violence",
    "threats",
    "fraud_deception",
    "coercion",
    "debt_bondage",
    "confinement",
    "isolation",
    "document_retention",
    "wage_withholding",
    "abusive_conditions",
    "excessive_hours",
    "abuse_of_vulnerability",
    "forced_tasks",
    "sexual_exploitation",
    "criminal_exploitation",
    "risk_history",
    "safety",
    "contact",
    "premises_living",
    "premises_access",
    "premises_concealment",
    "premises_hours",
    "premises_clientele",
    "premises_advertising",
    "premises_workers",
    "premises_regulatory",
]
DOMAINS: tuple[str, ...] = get_args(Domain)

# In the order the ILO/EC list presents them; results are reported in this order.
Dimension = Literal[
    "deceptive_recruitment",
    "coercive_recruitment",
    "recruitment_abuse_of_vulnerability",
    "exploitation",
    "coercion_at_destination",
    "abuse_of_vulnerability_at_destination",
]
DIMENSIONS: tuple[str, ...] = get_args(Dimension)

Flag = Literal[
    "minor",
    "mandatory_report",
    "child_welfare_referral",
    "immediate_danger",
    "urgent",
    "youth_path",
    "crisis",
    "further_assessment",
    "law_enforcement_notice",
]
FLAGS: tuple[str, ...] = get_args(Flag)

Strength = Literal["strong", "medium", "weak"]
STRENGTHS: tuple[str, ...] = get_args(Strength)

ResponseType = Literal["yes_no", "single_choice", "multiple_choice", "number", "date"]
RESPONSE_TYPES: tuple[str, ...] = get_args(ResponseType)
CHOICE_TYPES = frozenset({"single_choice", "multiple_choice"})

# How an item, grade or rule was checked against its publication (docs/instrument-format.md).
ProvenanceStatus = Literal["confirmed", "secondary_only", "not_confirmed"]
PROVENANCE_STATUSES: tuple[str, ...] = get_args(ProvenanceStatus)
SourceKind = Literal["primary", "secondary"]

Audience = Literal["adult", "child", "premises", "hotline"]

# What a version records: a conversation with a person (the default, when a file says nothing)
# or what the officer observes about a place (an observation checklist: no safety gate, no
# consent, answers observed / not observed / could not check; docs/observation-checklists.md).
Subject = Literal["person", "place"]
SUBJECTS: tuple[str, ...] = get_args(Subject)
PLACE = "place"
# An observation's three answers are the engine's three values: observed is `yes` (true), not
# observed is `no` (false), could not check is `unknown` (open, never counted either way).
OBSERVATION_ANSWERS: dict[str, str] = {
    "yes": "observed",
    "no": "not observed",
    "unknown": "could not check",
}
Status = Literal["published", "draft"]

Op = Literal["lt", "lte", "gt", "gte", "eq", "ne"]
OPS: tuple[str, ...] = get_args(Op)

ContextKey = Literal["age", "exploitation_type"]
CONTEXT_KEYS: tuple[str, ...] = get_args(ContextKey)
ExploitationType = Literal["labour", "sexual", "both", "criminality", "unknown"]
EXPLOITATION_TYPES: tuple[str, ...] = get_args(ExploitationType)
MAX_AGE = 120

# Answer values that mean "no information": never counted as yes or no.
UNKNOWN = "unknown"
DECLINED = "declined"
NON_ANSWERS = frozenset({UNKNOWN, DECLINED})

# The outcome reported when unanswered items could still change the band.
INDETERMINATE = "indeterminate"
