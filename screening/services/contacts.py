"""Writes for hotline contacts: log (create), update a draft, finalise.

A contact may link to a case the caller's agency can see (through `case_access`) or open a
new one. Optional triage answers are scored with the `hotline-triage` instrument; the
contact's own fields (type, channel, caller, exploitation type, danger, minor) fill the
matching triage items, so they cannot disagree.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from config.access_log import CONTACT, access_log_note
from config.db import insert_instance
from config.errors import CaseNotFound, ConflictError, InvalidState, ValidationError
from config.history import history_record_created, history_user_set
from indicators.engine import AnswerError
from indicators.models import InstrumentVersion
from indicators.selectors import InstrumentVersionNotFound, instrument_version_get
from indicators.services import instrument_version_score
from screening.contacts import contact_access, require_contact_role
from screening.models import Case, Contact, User
from screening.permissions import CaseAction, case_access
from screening.services._common import clean_text, full_clean, raise_if
from screening.services.cases import case_create
from screening.services.identifiers import identifier_digests_store

TRIAGE_SLUG = "hotline-triage"

# Fields a draft update may change.
UPDATABLE_FIELDS = (
    "channel",
    "caller_type",
    "language",
    "caller_region",
    "contact_type",
    "immediate_danger",
    "minor_involved",
    "exploitation_type",
    "situation_location",
    "summary",
    "caller_name",
    "caller_phone",
)
_TEXT_FIELDS = (
    "language",
    "caller_region",
    "situation_location",
    "summary",
    "caller_name",
    "caller_phone",
)
# What the identifier digests are made of (duplicate detection).
_IDENTIFYING_FIELDS = ("caller_name", "caller_phone")


def _derived_triage_answers(contact: Contact) -> dict[str, str]:
    exploitation = contact.exploitation_type
    return {
        "contact_type": contact.contact_type,
        "channel": contact.channel,
        "caller_type": contact.caller_type,
        "exploitation_type": "unknown_type" if exploitation == "unknown" else exploitation,
        "immediate_danger": "yes" if contact.immediate_danger else "no",
        "minor_involved": "yes" if contact.minor_involved else "no",
    }


def _triage_version(contact: Contact) -> InstrumentVersion:
    if contact.triage_instrument_version_id is not None:
        return contact.triage_instrument_version
    try:
        return instrument_version_get(slug=TRIAGE_SLUG)
    except InstrumentVersionNotFound:
        raise InvalidState(
            "The hotline triage instrument is not loaded; log the contact without triage answers."
        ) from None


def _score_triage(contact: Contact, answers: dict[str, Any]) -> None:
    """Score the contact's triage on the instrument version it started with (or the newest)."""
    if not isinstance(answers, dict):
        raise ValidationError(
            "Triage answers must be an object.", {"triage_answers": ["Give an object."]}
        )
    derived = _derived_triage_answers(contact)
    problems = {
        f"triage_answers.{key}": [
            "Recorded by the contact's own field of the same name; leave it out or match it."
        ]
        for key, value in answers.items()
        if key in derived and value != derived[key]
    }
    raise_if(problems)
    version = _triage_version(contact)
    merged = {**answers, **derived}
    try:
        result = instrument_version_score(version=version, answers=merged, context={})
    except AnswerError as error:
        raise ValidationError(
            "Some triage answers are not valid; nothing was saved.",
            {f"triage_answers.{problem.key}": [problem.message] for problem in error.problems},
        ) from None
    contact.triage_instrument_version = version
    contact.triage_answers = answers
    contact.triage_result = result
    contact.triage_outcome = result["outcome"]


def _linked_case(*, user: User, case_reference: str) -> Case:
    try:
        return case_access(user=user, case_reference_or_id=case_reference, action=CaseAction.VIEW)
    except CaseNotFound:
        raise ValidationError(
            "The case to link was not found.", {"case": ["No such case."]}
        ) from None


def contact_create(
    *,
    created_by: User,
    channel: str,
    contact_type: str,
    caller_type: str = Contact.CallerType.ANONYMOUS,
    language: str = "",
    caller_region: str = "",
    immediate_danger: bool = False,
    minor_involved: bool = False,
    exploitation_type: str = Case.ExploitationType.UNKNOWN,
    situation_location: str = "",
    summary: str = "",
    caller_name: str = "",
    caller_phone: str = "",
    triage_answers: dict[str, Any] | None = None,
    case_reference: str | None = None,
    create_case: bool = False,
) -> Contact:
    """Log a contact (a draft) owned by the creator's agency, optionally linked to a visible
    case or opening a new one, with its triage scored when triage answers are given. A
    caller's name and phone are digested for duplicate detection: one more INSERT when
    given, none otherwise (this is the API's hot path).

    Everything that may refuse the contact is checked before the first write; the writes
    are one transaction, or part of the caller's (the API's idempotency record) without a
    savepoint of their own: a database error inside them ends the caller's transaction too,
    which is what PostgreSQL does anyway. That saves two round trips per logged contact."""
    require_contact_role(created_by)
    if case_reference and create_case:
        raise ValidationError(
            "Link an existing case or create one, not both.",
            {"create_case": ["Leave out either case or create_case."]},
        )
    contact = Contact(
        agency_id=created_by.agency_id,
        created_by=created_by,
        channel=channel,
        contact_type=contact_type,
        caller_type=caller_type,
        language=clean_text(language),
        caller_region=clean_text(caller_region),
        immediate_danger=immediate_danger,
        minor_involved=minor_involved,
        exploitation_type=exploitation_type,
        situation_location=(situation_location or "").strip(),
        summary=(summary or "").strip(),
        caller_name=clean_text(caller_name),
        caller_phone=clean_text(caller_phone),
    )
    # The contact's check constraints restate its fields' choices (validated here with the
    # fields) or hold what this service sets (status, version), and its agency and author
    # are the signed-in user's own: the database enforces all of them too. Checking them in
    # Python would cost a query each, nine per logged contact.
    full_clean(
        contact,
        exclude=["agency", "created_by", "case", "triage_instrument_version"],
        validate_constraints=False,
    )
    if triage_answers is not None:
        _score_triage(contact, triage_answers)
    if case_reference:
        contact.case = _linked_case(user=created_by, case_reference=case_reference)
    with transaction.atomic(savepoint=False):
        if create_case:
            contact.case = case_create(
                created_by=created_by,
                # A possible minor: the case carries the mandatory report at once (practice
                # guide).
                age_band=Case.AgeBand.MINOR if minor_involved else None,
                languages=[contact.language] if contact.language else [],
                exploitation_type=exploitation_type,
            )
        insert_instance(contact)  # contact.save() without compiling the INSERT (config/db.py)
        if contact.caller_name or contact.caller_phone:
            identifier_digests_store(contact=contact, created=True)
        history_record_created(contact, user=created_by)  # no post_save above: its "+" row
    access_log_note(object_type=CONTACT, object_ref=str(contact.pk), case_id=contact.case_id)
    return contact


@transaction.atomic
def contact_update(
    *,
    contact: Contact,
    by: User,
    expected_version: int | None,
    changes: dict[str, Any],
) -> Contact:
    """Change a draft contact. `expected_version` is the version the caller read (stale →
    `ConflictError`); `changes` may hold UPDATABLE_FIELDS, `triage_answers` and `case`
    (a case reference to link, or None to unlink)."""
    contact = contact_access(user=by, contact_id=contact.pk, for_update=True)
    if expected_version is not None and expected_version != contact.version:
        raise ConflictError(
            "This contact was changed by someone else.", current_version=contact.version
        )
    if not contact.is_draft:
        raise InvalidState("A finalised contact cannot be changed.")
    unknown = set(changes) - {*UPDATABLE_FIELDS, "triage_answers", "case"}
    raise_if({field: ["This field cannot be changed."] for field in sorted(unknown)})
    identifying_before = [getattr(contact, field) for field in _IDENTIFYING_FIELDS]
    for field in UPDATABLE_FIELDS:
        if field in changes:
            value = changes[field]
            setattr(contact, field, clean_text(value) if field in _TEXT_FIELDS else value)
    full_clean(contact, exclude=["case", "triage_instrument_version"])
    if "triage_answers" in changes and changes["triage_answers"] is not None:
        _score_triage(contact, changes["triage_answers"])
    elif "triage_answers" in changes:
        contact.triage_answers = contact.triage_result = None
        contact.triage_outcome = ""
        contact.triage_instrument_version = None
    elif contact.triage_answers is not None:
        _score_triage(contact, contact.triage_answers)  # the contact's own fields changed
    if "case" in changes:
        reference = changes["case"]
        contact.case = _linked_case(user=by, case_reference=reference) if reference else None
    contact.version += 1
    history_user_set(contact, by)
    contact.save()
    if [getattr(contact, field) for field in _IDENTIFYING_FIELDS] != identifying_before:
        identifier_digests_store(contact=contact)  # the old digests stop matching at once
    return contact


@transaction.atomic
def contact_finalise(*, contact: Contact, by: User, expected_version: int | None = None) -> Contact:
    """Close the contact: no more changes. Finalising a finalised contact changes nothing,
    so a client may safely retry."""
    contact = contact_access(user=by, contact_id=contact.pk, for_update=True)
    if not contact.is_draft:
        return contact
    if expected_version is not None and expected_version != contact.version:
        raise ConflictError(
            "This contact was changed by someone else.", current_version=contact.version
        )
    contact.status = Contact.Status.FINALISED
    contact.finalised_at = timezone.now()
    contact.finalised_by = by
    contact.version += 1
    history_user_set(contact, by)
    contact.save()
    return contact
