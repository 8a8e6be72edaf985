"""Referral facts in words for the pages (referrals/labels.py): a history event's "what" and
note."""

from django import template

from referrals import labels

register = template.Library()


@register.filter
def event_what(event) -> str:
    return labels.event_what(event)


@register.filter
def event_note(event, referral) -> str:
    return labels.event_note(event, referral)
