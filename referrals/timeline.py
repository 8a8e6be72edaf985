"""Referrals on the case timeline (screening/timeline.py discovers this module): each
referral event — status changes, escalations, consent changes, discard notices — as an entry
naming the service and the provider, never the event's note."""

from __future__ import annotations

from django.urls import reverse

from referrals.models import ReferralEvent, ReferralStatus, ServiceType
from screening.timeline import (
    TimelineEntry,
    TimelineQuery,
    timeline_source_register,
    who,
    who_fields,
)


def _label(choices, value: str) -> str:
    return choices(value).label if value in choices.values else value


def _title(event: ReferralEvent) -> str:
    referral = event.referral
    service = _label(ServiceType, referral.service_type).lower()
    about = f"Referral for {service} to {referral.provider.name}"
    if event.kind == ReferralEvent.Kind.TRANSITION and event.to_status:
        return f"{about}: {_label(ReferralStatus, event.to_status).lower()}"
    return f"{about}: {event.get_kind_display().lower()}"


def _referral_events(query: TimelineQuery) -> list[TimelineEntry]:
    rows = query.older(
        ReferralEvent.objects.filter(referral__case=query.case)
        .select_related("referral__provider", "by")
        .only(
            "at",
            "kind",
            "to_status",
            "referral",
            "referral__service_type",
            "referral__provider",
            "referral__provider__name",
            *who_fields("by"),
        ),
        "at",
    )
    return [
        TimelineEntry(
            at=event.at,
            source="referral_event",
            id=event.pk,
            kind=event.kind,
            title=_title(event),
            by=who(event.by) if event.by_id else "",
            link=reverse("referrals:detail", kwargs={"referral_id": event.referral_id}),
        )
        for event in rows
    ]


timeline_source_register("referral_event", rank=60, source=_referral_events)
