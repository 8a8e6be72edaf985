"""Output shapes of the referrals API (inputs are nested in each view). Webhook URLs, secrets
and email addresses of providers are never serialised."""

from __future__ import annotations

from rest_framework import serializers

from config.api.serializers import ApiSerializer
from referrals.models import (
    Priority,
    Referral,
    ReferralEvent,
    ReferralStatus,
    ServiceProvider,
    ServiceType,
)


class ProviderSummarySerializer(ApiSerializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class ProviderOutputSerializer(ApiSerializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    agency = serializers.CharField(source="agency.name", allow_null=True)
    service_types = serializers.ListField(child=serializers.ChoiceField(ServiceType.choices))
    regions = serializers.ListField(
        child=serializers.CharField(), help_text='"national" covers every region.'
    )
    min_age = serializers.IntegerField(allow_null=True)
    max_age = serializers.IntegerField(allow_null=True)
    genders = serializers.ListField(child=serializers.CharField(), help_text="Empty: all.")
    exploitation_types = serializers.ListField(
        child=serializers.CharField(), help_text="Empty: all."
    )
    languages = serializers.ListField(child=serializers.CharField())
    capacity = serializers.ChoiceField(choices=ServiceProvider.Capacity.choices)
    channel = serializers.ChoiceField(
        choices=ServiceProvider.Channel.choices, help_text="How referrals reach it."
    )
    response_due_hours = serializers.IntegerField()


class ReferralEventOutputSerializer(ApiSerializer):
    kind = serializers.ChoiceField(choices=ReferralEvent.Kind.choices)
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    by = serializers.CharField(source="by.username", allow_null=True, help_text="Staff account.")
    by_provider = serializers.CharField(
        source="by_provider.slug", allow_null=True, help_text="The provider that answered."
    )
    reason_code = serializers.CharField()
    note = serializers.CharField()
    at = serializers.DateTimeField()


class ReferralOutputSerializer(ApiSerializer):
    """A referral as its case's agency sees it (queue rows and the detail)."""

    id = serializers.IntegerField()
    case = serializers.CharField(source="case.reference")
    screening = serializers.IntegerField(source="screening_id")
    provider = ProviderSummarySerializer()
    service_type = serializers.ChoiceField(choices=ServiceType.choices)
    status = serializers.ChoiceField(choices=ReferralStatus.choices)
    priority = serializers.ChoiceField(choices=Priority.choices)
    mandatory = serializers.BooleanField(help_text="Required by law: consent cannot block it.")
    missing_consent = serializers.CharField(help_text="What consent is missing, when blocked.")
    fields_disclosed = serializers.ListField(child=serializers.CharField())
    due_at = serializers.DateTimeField()
    decline_reason = serializers.CharField()
    declined_by = serializers.CharField()
    delivery_attempts = serializers.IntegerField()
    escalated_at = serializers.DateTimeField(allow_null=True)
    escalation_reason = serializers.ChoiceField(
        choices=Referral.EscalationReason.choices, allow_blank=True
    )
    outcome = serializers.ChoiceField(
        choices=Referral.Outcome.choices, allow_blank=True, help_text="Once closed."
    )
    closed_by = serializers.ChoiceField(choices=Referral.ClosedBy.choices, allow_blank=True)
    approved_at = serializers.DateTimeField(allow_null=True)
    sent_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ReferralDetailOutputSerializer(ReferralOutputSerializer):
    events = ReferralEventOutputSerializer(
        many=True, source="events_in_order", help_text="The history, oldest first."
    )


class ReferralProviderOutputSerializer(ApiSerializer):
    """A referral as the provider it was sent to sees it: no case data."""

    id = serializers.IntegerField()
    provider = ProviderSummarySerializer()
    service_type = serializers.ChoiceField(choices=ServiceType.choices)
    status = serializers.ChoiceField(choices=ReferralStatus.choices)
    priority = serializers.ChoiceField(choices=Priority.choices)
    due_at = serializers.DateTimeField()
    outcome = serializers.ChoiceField(
        choices=Referral.Outcome.choices, allow_blank=True, help_text="Once closed."
    )
    updated_at = serializers.DateTimeField()
