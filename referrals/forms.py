"""Forms of the referral pages: shape and type only. The services decide what is allowed;
their `ValidationError.field_errors` are copied onto these forms by `add_service_errors`."""

from __future__ import annotations

from django import forms

from config.labels import labels
from referrals.models import (
    ESCALATED_QUEUE_STATUSES,
    QUEUE_STATUSES,
    Priority,
    Referral,
    ReferralStatus,
    ServiceProvider,
    ServiceType,
)
from referrals.services.answers import ANSWERS, PROVIDER_DECLINE_REASONS
from referrals.services.decisions import SUPERVISOR_DECLINE_REASONS

NOTE_HELP = "No names or other identifying details."


def _reason_choices(codes) -> list[tuple[str, str]]:
    labels = dict(Referral.DeclineReason.choices)
    return [("", "Choose a reason")] + [(code, labels[code]) for code in codes]


# What each status means in the queue, in words: the delivered ones are there only once
# escalated, and say so (the old "Sent" meant "sent and escalated").
QUEUE_STATUS_CHOICES = [
    (ReferralStatus.FAILED.value, "Delivery failed"),
    (ReferralStatus.PENDING_APPROVAL.value, "Waiting for approval"),
    (ReferralStatus.BLOCKED_NEEDS_CONSENT.value, "Blocked: needs consent"),
    (ReferralStatus.SENT.value, "Escalated: sent, no answer from the provider"),
    (ReferralStatus.ACKNOWLEDGED.value, "Escalated: acknowledged, no answer from the provider"),
    (ReferralStatus.ACCEPTED.value, "Escalated: accepted, services not started"),
    (ReferralStatus.SERVICES_STARTED.value, "Escalated: services started"),
]
assert {code for code, _ in QUEUE_STATUS_CHOICES} == {*QUEUE_STATUSES, *ESCALATED_QUEUE_STATUSES}


class ReferralQueueFilterForm(forms.Form):
    """The GET filters of the supervisor queue. Unknown values are simply not applied."""

    status = forms.ChoiceField(
        required=False, label="Waiting because", choices=[("", "Any"), *QUEUE_STATUS_CHOICES]
    )
    escalation = forms.ChoiceField(
        required=False,
        label="Escalated",
        choices=[
            ("", "Any"),
            ("any", "Escalated, any reason"),
            *Referral.EscalationReason.choices,
            ("none", "Not escalated"),
        ],
    )
    service_type = forms.ChoiceField(
        required=False, label="Service", choices=[("", "Any"), *ServiceType.choices]
    )
    region = forms.CharField(required=False, max_length=100, label="Region")


class ReferralNoteForm(forms.Form):
    """Approve or retry delivery: an optional note for the history."""

    note = forms.CharField(
        required=False,
        max_length=2000,
        label="Note",
        help_text=NOTE_HELP,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReferralDeclineForm(forms.Form):
    reason_code = forms.ChoiceField(
        label="Reason", choices=_reason_choices(SUPERVISOR_DECLINE_REASONS)
    )
    note = forms.CharField(
        required=False,
        max_length=2000,
        label="Note",
        help_text=f"Needed when the reason is “other”. {NOTE_HELP}",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason_code"].error_messages["required"] = "Choose why you decline it."


class ProviderAnswerForm(forms.Form):
    """One answer of provider staff. The reason is required for a decline only."""

    answer = forms.ChoiceField(choices=[(answer, answer) for answer in ANSWERS])
    reason_code = forms.ChoiceField(
        required=False,
        label="Reason for declining",
        choices=_reason_choices(PROVIDER_DECLINE_REASONS),
    )
    note = forms.CharField(
        required=False,
        max_length=2000,
        label="Note",
        help_text=NOTE_HELP,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("answer") == "decline" and not cleaned.get("reason_code"):
            self.add_error("reason_code", "Choose why you decline it.")
        return cleaned


class ReferralCloseForm(forms.Form):
    outcome = forms.ChoiceField(
        label="What came of it",
        choices=[("", "Choose an outcome"), *Referral.Outcome.choices],
    )
    note = forms.CharField(
        required=False,
        max_length=2000,
        label="Note",
        help_text=f"Needed when the outcome is “other”. {NOTE_HELP}",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["outcome"].error_messages["required"] = "Choose what came of the referral."


class ReferralEscalateForm(forms.Form):
    note = forms.CharField(
        max_length=2000,
        label="Why it needs a supervisor",
        help_text=NOTE_HELP,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why it needs a supervisor."},
    )


class ReferralProposeForm(forms.Form):
    """A referral by hand: the service, a provider that serves the person (the service
    checks it serves them for that service), the priority and a note."""

    service_type = forms.ChoiceField(
        label="Service",
        choices=[("", "Choose a service"), *ServiceType.choices],
        error_messages={"required": "Choose a service."},
    )
    provider = forms.ChoiceField(
        label="Provider", error_messages={"required": "Choose a provider."}
    )
    priority = forms.TypedChoiceField(
        label="Priority",
        coerce=int,
        choices=Priority.choices,
        initial=Priority.NORMAL,
        required=False,
        empty_value=Priority.NORMAL,
    )
    note = forms.CharField(
        required=False,
        max_length=2000,
        label="Note",
        help_text=f"Why this referral. {NOTE_HELP}",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, providers: list[ServiceProvider], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [("", "Choose a provider")] + [
            (
                provider.slug,
                f"{provider.name} ({', '.join(labels(provider.service_types, 'service_type'))})",
            )
            for provider in providers
        ]
