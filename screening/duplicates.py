"""Possible earlier records of the same person, found by identifier digests (issue 11).

A new case or contact's phone numbers, document numbers and name are digested
(screening/identifiers.py) and matched against the digests of other records, **among the
records the user may see only**: cases through `Case.objects.visible_to(user)`, contacts
through the contacts rule (hotline staff and supervisors, their own agency's contacts). The
visibility filter is in the matching query's WHERE clause, so a record the user may not see is
never read, counted or hinted at: the answer is the same as if it did not exist. Which kind of
identifier matched is shown; it tells someone who may see both records nothing new.

A contact linked to a case the user may see is reported as that case; any other contact as
an "earlier contact" by its id (the contacts API's own handle).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from functools import reduce

from django.conf import settings
from django.db.models import CharField, Exists, OuterRef, Q, Subquery, Value

from screening.contacts import may_log_contacts
from screening.identifiers import DOCUMENT, NAME, PHONE, identifiers_of
from screening.models import Case, Contact, IdentifierDigest, User
from screening.querysets import CASE_WORKER_ROLES, _may_see_cases

# Shown in this order; at most MAX_RECORDS records (newest first), from at most MAX_ROWS
# digest rows (a record has a few).
KIND_ORDER = (PHONE, DOCUMENT, NAME)
MAX_RECORDS = 10
MAX_ROWS = 50
MATCHED_ON_LABELS = {
    PHONE: "same phone number",
    DOCUMENT: "same document number",
    NAME: "same name",
}


@dataclass
class EarlierRecord:
    """A visible record sharing an identifier: a case (`reference`) or a contact (`contact`)."""

    reference: str | None = None
    contact: int | None = None
    matched_on: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"reference": self.reference, "contact": self.contact, "matched_on": self.matched_on}


def _pk(record: Case | Contact | int | None) -> int | None:
    return record.pk if isinstance(record, Case | Contact) else record


def possible_earlier_records(
    *,
    user: User,
    phone: str = "",
    name: str = "",
    documents: str = "",
    exclude_case: Case | int | None = None,
    exclude_contact: Contact | int | None = None,
) -> list[EarlierRecord]:
    """Records `user` may see that share a phone number, document number or name with the
    values given, newest first, leaving out `exclude_case` (and the contacts linked to it) and
    `exclude_contact`. No query when nothing digests; one otherwise."""
    digests = [
        identifier.digest()
        for identifier in identifiers_of(
            phone=phone, name=name, documents=documents, region=settings.PHONE_DEFAULT_REGION
        )
    ]
    if not digests:
        return []
    excluded: list[Q] = []
    if (case_pk := _pk(exclude_case)) is not None:
        excluded += [Q(case_id=case_pk), Q(contact__case_id=case_pk)]
    if (contact_pk := _pk(exclude_contact)) is not None:
        excluded.append(Q(contact_id=contact_pk))
    return _matching(user=user, digests=Q(digest__in=digests), excluded=excluded)


def possible_earlier_records_of(
    *, user: User, case_reference: str | None = None, contact_id: int | None = None
) -> list[EarlierRecord]:
    """The same for a stored case or contact (by the handles API bodies carry), matched by the
    digests stored with it, in one query: what a replayed API response shows, with the user's
    access of now. A contact's own linked case, and that case's other contacts, are what the
    contact was logged against: left out."""
    if (case_reference is None) == (contact_id is None):
        raise TypeError("Give a case reference or a contact id")
    if case_reference is not None:
        own = IdentifierDigest.objects.filter(case__reference=case_reference).values("digest")
        excluded = [Q(case__reference=case_reference), Q(contact__case__reference=case_reference)]
    else:
        own = IdentifierDigest.objects.filter(contact_id=contact_id).values("digest")
        # EXISTS, never NULL: a contact without a case excludes nothing more.
        linked = Contact.objects.filter(pk=contact_id, case_id__isnull=False)
        excluded = [
            Q(contact_id=contact_id),
            Q(Exists(linked.filter(case_id=OuterRef("case_id")))),
            Q(Exists(linked.filter(case_id=OuterRef("contact__case_id")))),
        ]
    return _matching(user=user, digests=Q(digest__in=own), excluded=excluded)


def _visibility(user: User) -> tuple[Q | None, Subquery | Value]:
    """Which digest rows `user` may see, and the reference of a contact's linked case when
    `user` may see that case (else NULL: an invisible case's reference is never read)."""
    conditions: list[Q] = []
    linked_reference: Subquery | Value = Value(None, output_field=CharField())
    # Roles from those loaded once per request; the visibility itself is decided in SQL.
    if _may_see_cases(user) and user.has_any_role(CASE_WORKER_ROLES):
        visible_cases = Case.objects.visible_to(user)
        conditions.append(Q(Exists(visible_cases.filter(pk=OuterRef("case_id")))))
        linked_reference = Subquery(
            visible_cases.filter(pk=OuterRef("contact__case_id")).order_by().values("reference")[:1]
        )
    if may_log_contacts(user):
        conditions.append(Q(contact__agency_id=user.agency_id))
    return (reduce(operator.or_, conditions) if conditions else None), linked_reference


def _matching(*, user: User, digests: Q, excluded: list[Q]) -> list[EarlierRecord]:
    visible, linked_reference = _visibility(user)
    if visible is None:
        return []
    rows = IdentifierDigest.objects.filter(digests, visible)
    for condition in excluded:
        rows = rows.exclude(condition)
    rows = (
        rows.annotate(linked_reference=linked_reference)
        .order_by("-pk")
        .values_list(
            "kind",
            "case__reference",
            "contact_id",
            "linked_reference",
        )[:MAX_ROWS]
    )
    records: dict[tuple[str, object], EarlierRecord] = {}
    for kind, case_reference, contact_id, contact_case_reference in rows:
        reference = case_reference or contact_case_reference
        if reference is not None:
            record = records.setdefault(("case", reference), EarlierRecord(reference=reference))
        else:
            record = records.setdefault(("contact", contact_id), EarlierRecord(contact=contact_id))
        if kind not in record.matched_on:
            record.matched_on.append(kind)
    found = list(records.values())[:MAX_RECORDS]
    for record in found:
        record.matched_on.sort(key=KIND_ORDER.index)
    return found
