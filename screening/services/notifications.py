"""In-app notifications: a short message to one member of staff, linking to a page.

Any app may send one through `notification_send` (referral answers, escalations): the text
is fixed words and a case reference at most, never a name, a note or a narrative, because it
is shown in lists and may be read over someone's shoulder. The link is a path inside the
service: only references and ids are in it (screening/urls.py)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from config.errors import NotFound, ValidationError
from screening.models import Agency, Case, Notification, User
from screening.roles import Role


class NotificationNotFound(NotFound):
    def __init__(self, message: str = "No such notification.") -> None:
        super().__init__(message)


def notification_send(
    *, users: Iterable[User], kind: str, text: str, link: str = "", case: Case | None = None
) -> list[Notification]:
    """One notification per user (inactive accounts skipped), in the caller's transaction."""
    if kind not in Notification.Kind.values:
        raise ValidationError("Unknown kind of notification.", {"kind": ["Choose a known kind."]})
    if link and not link.startswith("/"):
        raise ValidationError("A notification links to a page of this service.", {"link": []})
    now = timezone.now()
    rows = [
        Notification(
            user=user,
            kind=kind,
            text=text[:200],
            link=link,
            case=case,
            created_at=now,
        )
        for user in users
        if user.is_active
    ]
    return Notification.objects.bulk_create(rows)


def agency_supervisors(agency: Agency | int) -> list[User]:
    """The active supervisors of an agency (whom agency-wide requests go to)."""
    agency_id = agency.pk if isinstance(agency, Agency) else agency
    return list(
        User.objects.filter(
            agency_id=agency_id, is_active=True, groups__name=Role.SUPERVISOR.value
        ).distinct()
    )


@transaction.atomic
def notification_mark_read(*, user: User, notification_id: int | str) -> Notification:
    """Mark one of the user's notifications read (again: nothing changes). Someone else's is
    `NotificationNotFound`, like a missing one."""
    try:
        pk = int(notification_id)
    except (TypeError, ValueError):
        raise NotificationNotFound() from None
    notification = Notification.objects.select_for_update().filter(pk=pk, user=user).first()
    if notification is None:
        raise NotificationNotFound()
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of the user read; returns how many."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
