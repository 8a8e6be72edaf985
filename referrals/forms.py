"""Forms of the referral pages: shape and type only. The services decide what is allowed;
their `ValidationError.field_errors` are copied onto these forms by `add_service_errors`."""

from __future__ import annotations

from django import forms

from referrals.models import QUEUE_STATUSES, Referral, ReferralStatus, ServiceType
from referrals.services.answers import ANSWERS, PROVIDER_DECLINE_REASONS
from referrals.services.decisions import SUPERVISOR_DECLINE_REASONS

NOTE_HELP = "No names or other identifying details."


def _reason_choices(codes) -> list[tuple[str, str]]:
    labels = dict(Referral.DeclineReason.choices)
    return [("", "Choose a reason")] + [(code, labels[code]) for code in codes]


class ReferralQueueFilterForm(forms.Form):
    """The GET filters of the supervisor queue. Unknown values are simply not applied."""

    status = forms.ChoiceField(
        required=False,
        label="Status",
        choices=[("", "Any")]
        + [(status.value, status.label) for status in (*QUEUE_STATUSES, ReferralStatus.SENT)],
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
