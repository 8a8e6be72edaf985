"""Retention of the screening app's records (docs/retention.md): closed cases, abandoned draft
screenings and contacts that never led to a case, each deleted once past its period
(RETENTION_* settings), with everything that hangs off it (`config.retention.cascade_purge`).

A case on legal hold is never purged, nor are the drafts of one. Every batch locks the rows
it deletes and checks them again, so a hold set, a case reopened, a draft saved or a contact
linked while the purge runs wins over it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction

from config.access_log import CASE
from config.retention import RetentionRule, cascade_purge
from screening.models import Case, Contact, Screening


def _days_before(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def expired_closed_cases(now: datetime) -> models.QuerySet[Case]:
    """Cases closed longer than RETENTION_CLOSED_CASE_DAYS ago and not on legal hold."""
    return Case.objects.filter(
        status=Case.Status.CLOSED,
        closed_at__lt=_days_before(now, settings.RETENTION_CLOSED_CASE_DAYS),
        legal_hold_at__isnull=True,
    )


def abandoned_draft_screenings(now: datetime) -> models.QuerySet[Screening]:
    """Drafts untouched for RETENTION_DRAFT_SCREENING_DAYS, on cases not on legal hold."""
    return Screening.objects.filter(
        status=Screening.Status.DRAFT,
        updated_at__lt=_days_before(now, settings.RETENTION_DRAFT_SCREENING_DAYS),
        case__legal_hold_at__isnull=True,
    )


def expired_unlinked_contacts(now: datetime) -> models.QuerySet[Contact]:
    """Contacts linked to no case, logged longer than RETENTION_UNLINKED_CONTACT_DAYS ago."""
    return Contact.objects.filter(
        case__isnull=True,
        created_at__lt=_days_before(now, settings.RETENTION_UNLINKED_CONTACT_DAYS),
    )


def _locked(queryset: models.QuerySet, ids: Sequence[int], *, dry_run: bool) -> models.QuerySet:
    queryset = queryset.filter(pk__in=ids)
    return queryset if dry_run else queryset.select_for_update(of=("self",))


@transaction.atomic
def closed_cases_purge(*, ids: Sequence[int], now: datetime, dry_run: bool) -> Counter[str]:
    """Delete the cases of `ids` still expired, with everything of them: screenings and
    overrides, consents, shares, assignments, grants, identifier digests, referrals with their
    events, outbox rows and callback receipts, the contacts linked to them (they hold the
    person's words), and the change history of all of these."""
    references = dict(
        _locked(expired_closed_cases(now), ids, dry_run=dry_run).values_list("pk", "reference")
    )
    if not references:
        return Counter()
    return cascade_purge(
        roots=[
            Contact.objects.filter(case_id__in=references),
            Case.objects.filter(pk__in=references),
        ],
        dry_run=dry_run,
        handles={CASE: list(references.values())},
    )


@transaction.atomic
def abandoned_drafts_purge(*, ids: Sequence[int], now: datetime, dry_run: bool) -> Counter[str]:
    """Delete the draft screenings of `ids` still abandoned, answers and history with them."""
    if not dry_run:
        # Their cases first (the lock order everywhere): a legal hold set meanwhile wins.
        list(
            Case.objects.filter(screenings__pk__in=ids)
            .order_by("pk")
            .select_for_update(of=("self",))
            .values_list("pk", flat=True)
        )
    found = list(
        _locked(abandoned_draft_screenings(now), ids, dry_run=dry_run).values_list("pk", flat=True)
    )
    if not found:
        return Counter()
    return cascade_purge(roots=[Screening.objects.filter(pk__in=found)], dry_run=dry_run)


@transaction.atomic
def unlinked_contacts_purge(*, ids: Sequence[int], now: datetime, dry_run: bool) -> Counter[str]:
    """Delete the contacts of `ids` still expired and unlinked, with their digests and history."""
    found = list(
        _locked(expired_unlinked_contacts(now), ids, dry_run=dry_run).values_list("pk", flat=True)
    )
    if not found:
        return Counter()
    return cascade_purge(roots=[Contact.objects.filter(pk__in=found)], dry_run=dry_run)


def screening_retention_rules() -> list[RetentionRule]:
    """The screening app's rules, cases first (a purged case takes its drafts and contacts)."""
    return [
        RetentionRule("closed cases", expired_closed_cases, closed_cases_purge),
        RetentionRule(
            "abandoned draft screenings", abandoned_draft_screenings, abandoned_drafts_purge
        ),
        RetentionRule(
            "contacts without a case", expired_unlinked_contacts, unlinked_contacts_purge
        ),
    ]
