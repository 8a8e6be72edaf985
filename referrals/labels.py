"""What the referral codes mean, in words (registered with config/labels.py): services,
statuses, priorities, reasons, the fields of a disclosure packet, providers by their
directory slug, routing rules by key, and a referral's reference at a size people can read."""

from __future__ import annotations

from typing import Any

from config.labels import label, labels, labels_register
from referrals.models import (
    Priority,
    Referral,
    ReferralEvent,
    ReferralStatus,
    RoutingRuleSet,
    ServiceProvider,
    ServiceType,
)

# The fields of a disclosure packet (the names are the webhook's, docs/openapi.yaml).
PACKET_FIELD_LABELS = {
    "referral": "Referral reference",
    "service_type": "Service",
    "priority": "Priority",
    "respond_by": "Respond by",
    "referring_agency": "Referring agency",
    "region": "Region",
    "age_band": "Age band",
    "languages": "Languages",
    "urgent": "Urgent",
    "mandatory": "Mandatory report",
    "contact_person_directly": "May contact the person directly",
    "age": "Age",
    "report_reasons": "Report reasons",
    "gender": "Gender",
    "exploitation_type": "Suspected exploitation",
    "outcome": "Screening outcome",
    "flags": "Flags",
    "name": "Name",
    "phone": "Phone",
    "narrative": "Narrative",
    "observed_signs": "Signs observed at the place",
}
# Which vocabulary a packet field's value is in (the rest are shown as they are).
PACKET_VALUE_KINDS = {
    "referral": "referral_reference",
    "service_type": "service_type",
    "priority": "priority",
    "age_band": "age_band",
    "gender": "gender",
    "exploitation_type": "exploitation_type",
    "languages": "language",
    "report_reasons": "flag",
    "flags": "flag",
    "outcome": "outcome",
}
# Rules the law imposes in code, not in a rule file (referrals/services/routing.py).
LAW_RULES = {
    "law:minor_child_welfare": "The law: a child is referred to child welfare at once.",
    # Not a rule: a case worker proposed it (referrals/services/proposals.py).
    "manual": "Proposed by hand by a case worker.",
}
# The stored number (2) and the packet's word ("high") alike.
PRIORITY_LABELS = {
    **{str(value): text for value, text in Priority.choices},
    **{name.lower(): text for name, text in zip(Priority.names, Priority.labels, strict=True)},
}


def referral_reference(key: str) -> str:
    """`R-1A2B-3C4D` from the 32-character key: what a person reads and quotes (the full key
    stays in the packet the provider's system receives)."""
    short = str(key).replace("-", "")[:8].upper()
    return f"R-{short[:4]}-{short[4:]}"


def provider_label(slug: str) -> str | None:
    return ServiceProvider.objects.filter(slug=slug).values_list("name", flat=True).first()


_RULE_TEXTS: dict[str, str] = {}


def routing_rule_label(key: str) -> str | None:
    """A routing rule's own sentence, from the published rule files (frozen once published:
    a text once found is kept; an unknown key reads the rule sets again)."""
    if key in LAW_RULES:
        return LAW_RULES[key]
    if key not in _RULE_TEXTS:
        for definition in RoutingRuleSet.objects.values_list("definition", flat=True):
            for rule in (definition or {}).get("rules", ()):
                if rule.get("key") and rule.get("text"):
                    _RULE_TEXTS.setdefault(rule["key"], rule["text"])
    return _RULE_TEXTS.get(key)


def packet_value_label(key: str, value: Any) -> str:
    """A packet field's value as the inbox shows it."""
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    if value is None or value == "" or value == []:
        return "None" if isinstance(value, list) else "Not known"
    kind = PACKET_VALUE_KINDS.get(key)
    if kind is None:
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    if isinstance(value, list):
        return ", ".join(labels(value, kind))
    return label(value, kind)


def event_what(event: ReferralEvent) -> str:
    """The history's "What" column: "Proposed → Blocked: needs consent", or the event kind."""
    if event.kind == ReferralEvent.Kind.TRANSITION:
        to = label(event.to_status, "referral_status")
        text = f"{label(event.from_status, 'referral_status')} → {to}" if event.from_status else to
    else:
        text = event.get_kind_display()
    if event.reason_code:
        if event.kind == ReferralEvent.Kind.ESCALATED:
            vocabulary = "escalation_reason"
        elif event.to_status == ReferralStatus.CLOSED:
            vocabulary = "referral_outcome"
        else:
            vocabulary = "decline_reason"
        text += f" ({label(event.reason_code, vocabulary)})"
    return text


def event_note(event: ReferralEvent, referral: Referral) -> str:
    """The history's "Note": a proposal's routing rule key as the rule's sentence."""
    note = event.note or ""
    if note and note == referral.rule_key:
        return label(note, "routing_rule")
    return note


# The indicator domains a routing rule can name (indicators/engine/vocabulary.py), in words.
DOMAIN_LABELS = {
    "force_violence": "Force or violence",
    "threats": "Threats",
    "fraud_deception": "Fraud or deception",
    "coercion": "Coercion",
    "debt_bondage": "Debt bondage",
    "confinement": "Confinement",
    "isolation": "Isolation",
    "document_retention": "Documents held by someone else",
    "wage_withholding": "Wages withheld",
    "abusive_conditions": "Abusive working or living conditions",
    "excessive_hours": "Excessive hours",
    "abuse_of_vulnerability": "Abuse of vulnerability",
    "forced_tasks": "Forced tasks",
    "sexual_exploitation": "Sexual exploitation",
    "criminal_exploitation": "Forced criminality",
    "risk_history": "Risk history",
    "safety": "Safety now",
    "contact": "Contact and communication",
    "premises_living": "Premises: people living on site",
    "premises_access": "Premises: controlled access",
    "premises_concealment": "Premises: concealment",
    "premises_hours": "Premises: hours",
    "premises_clientele": "Premises: clientele",
    "premises_advertising": "Premises: advertising",
    "premises_workers": "Premises: workers",
    "premises_regulatory": "Premises: regulatory",
}

labels_register("service_type", ServiceType)
labels_register("indicator_domain", DOMAIN_LABELS)
labels_register("referral_status", ReferralStatus)
labels_register("priority", PRIORITY_LABELS)
labels_register("decline_reason", Referral.DeclineReason)
labels_register("decided_by", Referral.DecidedBy)
labels_register("referral_outcome", Referral.Outcome)
labels_register("closed_by", Referral.ClosedBy)
labels_register("escalation_reason", Referral.EscalationReason)
labels_register("event_kind", ReferralEvent.Kind)
labels_register("channel", ServiceProvider.Channel)
labels_register("packet_field", PACKET_FIELD_LABELS)
labels_register("provider", provider_label)
labels_register("referral_reference", referral_reference)
labels_register("routing_rule", routing_rule_label)
