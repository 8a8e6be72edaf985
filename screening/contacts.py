"""The access rule and reads for hotline contacts (issue 6).

Hotline staff and supervisors work with their own agency's contacts. Any other role gets
`ActionNotAllowed` (403); a contact of another agency raises `ContactNotFound` exactly as a
missing one does (404). Kept apart from permissions.py/selectors.py while those change; fold
them in there later.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from config.access_log import CONTACT, access_log_note, access_log_note_refused
from config.errors import ActionNotAllowed, NotFound
from screening.filters import ContactFilter, apply_filters
from screening.models import Contact, User
from screening.roles import Role

CONTACT_ROLES: tuple[str, ...] = (Role.HOTLINE_STAFF, Role.SUPERVISOR)
# What rendering a contact reads: joined, so a page costs one query however long.
_RELATED = ("case", "triage_instrument_version__instrument")
# What a list shows of those joined rows: the case's reference, the triage instrument's slug
# and version number. Not a version's definition (tens of kB of JSON a row, decoded and then
# collected as garbage) nor the case's own columns.
_LIST_RELATED_FIELDS = (
    "case__reference",
    "triage_instrument_version__number",
    "triage_instrument_version__instrument__slug",
)


class ContactNotFound(NotFound):
    def __init__(self, message: str = "No such contact.") -> None:
        super().__init__(message)


def may_log_contacts(user: User | None) -> bool:
    """Active hotline staff or supervisor of an agency."""
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and user.agency_id
        and user.has_any_role(CONTACT_ROLES)
    )


def require_contact_role(user: User | None) -> None:
    if not may_log_contacts(user):
        raise ActionNotAllowed("Only hotline staff and supervisors may work with contacts.")


def contact_access(*, user: User, contact_id: int | str, for_update: bool = False) -> Contact:
    """The contact, if `user` may work with it: `ActionNotAllowed` for a role that may not use
    contacts at all, `ContactNotFound` for missing and other agencies' contacts alike."""
    require_contact_role(user)
    try:
        contact_pk = int(contact_id)
    except (TypeError, ValueError):
        raise ContactNotFound() from None
    contacts = Contact.objects.filter(pk=contact_pk, agency_id=user.agency_id)
    if for_update:
        contacts = contacts.select_for_update(of=("self",))
    contact = contacts.select_related(*_RELATED).first()
    if contact is None:
        # Another agency's contact: its (and its case's) history shows the attempt.
        refused_case_id = Contact.objects.filter(pk=contact_pk).values_list("case_id").first()
        if refused_case_id is not None:
            access_log_note_refused(
                object_type=CONTACT, object_ref=str(contact_pk), case_id=refused_case_id[0]
            )
        raise ContactNotFound()
    access_log_note(object_type=CONTACT, object_ref=str(contact.pk), case_id=contact.case_id)
    return contact


def contact_list(*, user: User, filters: dict[str, Any] | None = None) -> QuerySet[Contact]:
    """The agency's contacts, newest first, filtered (see `ContactFilter`), with every column of
    the contact and only what a list shows of its case and instrument. One query a page."""
    require_contact_role(user)
    contacts = contact_list_columns(Contact.objects.filter(agency_id=user.agency_id))
    if filters:
        # Without filters the FilterSet would only copy its filters and narrow nothing.
        contacts = apply_filters(ContactFilter, filters, contacts)
    return contacts.order_by("-created_at", "-pk")


def contact_list_columns(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """What a list reads of each contact: every column of its own, and of its case and
    instrument only what a list shows (also the list benchmark's baseline, unfiltered)."""
    return contacts.select_related(*_RELATED).only(
        *(field.name for field in Contact._meta.concrete_fields), *_LIST_RELATED_FIELDS
    )


def contact_get(*, user: User, contact_id: int | str) -> Contact:
    return contact_access(user=user, contact_id=contact_id)
