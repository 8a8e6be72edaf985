"""Change history read from django-simple-history's tables: who changed what, when, for a
case and everything that hangs off it, and for a member of staff (roles included).

Each historical row is compared with the row before it of the same object, which the same
query brings along (a window function, `LAG`, per tracked column): one query per tracked
model, however many rows, newest first and cut at `CHANGES_LIMIT`. Non-identifying fields show
their old and new values as people read them (choice labels, Yes/No, names of staff);
encrypted fields show only that they changed: their values are decrypted in memory to compare
them and never leave this module. Referrals live above screening: `referrals.selectors`
builds its rows with `change_rows`, and the page hands them in (`case_change_history(more=)`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import models
from django.db.models import F, QuerySet, Window
from django.db.models.functions import Lag
from django.utils import timezone
from django.utils.formats import date_format

from config.encrypted import EncryptedTextField
from config.errors import ActionNotAllowed
from screening.models import Case, Consent, Contact, Screening, ScreeningOverride, User
from screening.permissions import CaseAction, case_access, may_manage_staff
from screening.roles import Role

CHANGES_LIMIT = 200
# Bookkeeping, not facts anyone changes: ids, the optimistic-locking counter, timestamps the
# row keeps for itself.
HIDDEN_FIELDS = frozenset({"id", "row_uid", "version", "created_at", "updated_at"})
KINDS = {"+": "Created", "~": "Changed", "-": "Deleted"}
_EMPTY = "—"
_PREVIOUS = "_history_previous_"


@dataclass(frozen=True)
class FieldChange:
    """One field of one change. `sealed`: an encrypted (or structured) value, shown only as
    "changed"; `old` and `new` are then None."""

    field: str
    old: str | None
    new: str | None
    sealed: bool = False


@dataclass(frozen=True)
class Change:
    at: datetime
    who: str
    what: str
    kind: str
    fields: tuple[FieldChange, ...]
    # Which of the row lists it came from and its history row's id: with `at`, its place in
    # the list (a page's cursor holds these, never a value).
    source: int = 0
    history_id: int = 0
    # What the row's author said the change was, when the fields alone do not say it
    # ("Sign-in pause lifted"): simple-history's change reason.
    reason: str = ""

    @property
    def is_creation(self) -> bool:
        return self.kind == KINDS["+"]


@dataclass(frozen=True)
class CaseHistory:
    case: Case
    changes: list[Change]


def _staff_name(user: User | None) -> str:
    if user is None:
        return "System"
    return user.get_full_name() or user.get_username()


def _previous(attname: str) -> Window:
    return Window(
        Lag(attname),
        partition_by=[F("id")],
        order_by=[F("history_date").asc(), F("history_id").asc()],
    )


def _plain(value: Any) -> str:
    if value is None or value == "":
        return _EMPTY
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return date_format(timezone.localtime(value), "j M Y H:i")
    if isinstance(value, date):
        return date_format(value, "j M Y")
    return str(value)


class _Describer:
    """Turns stored values into what the page shows, for one case."""

    def __init__(self, *, case_id: int | None) -> None:
        self.case_id = case_id
        self.users: dict[int, User] = {}

    def value(self, field: models.Field, value: Any) -> str:
        if value is None or value == "":
            return _EMPTY
        if field.is_relation:
            related = field.related_model
            if related is User:
                return _staff_name(self.users.get(value)) if value in self.users else str(value)
            if related is Case:
                # Another case may be one the reader cannot see: never name it.
                return "this case" if value == self.case_id else "another case"
            return f"{related._meta.verbose_name.capitalize()} {value}"
        if field.flatchoices:
            return str(dict(field.flatchoices).get(value, value))
        if isinstance(value, list | tuple):
            return ", ".join(_plain(item) for item in value) or _EMPTY
        return _plain(value)


def _opened(field: EncryptedTextField, row: models.Model, stored: Any) -> Any:
    """The previous row's sealed value, opened in memory (same table and row_uid)."""
    if hasattr(stored, "stored"):
        return field.open_stored(
            stored.stored, table=row._meta.db_table, row_uid=row.row_uid, row_id=row.pk
        )
    return stored


@dataclass
class ChangeRow:
    """One historical row compared with the one before it, not yet put in words."""

    record: models.Model
    what: str
    kind: str
    differences: list[tuple[models.Field, Any, Any]] = dataclasses.field(default_factory=list)
    more: list[FieldChange] = dataclasses.field(default_factory=list)  # e.g. roles (many-to-many)

    @property
    def previous_id(self) -> int | None:
        return getattr(self.record, f"{_PREVIOUS}history_id")


def change_rows(
    history: QuerySet,
    *,
    what: Callable[[models.Model], str],
    hidden: Iterable[str] = (),
    limit: int = CHANGES_LIMIT,
    keep_unchanged: bool = False,
) -> list[ChangeRow]:
    """The newest `limit` rows of `history` (a simple-history queryset of one model), each
    compared with the row before it of the same object, for `changes_describe`. `what` names
    the object of a historical row ("Consent 3"); `hidden` names fields left out. A save that
    changed only hidden fields is no change, unless `keep_unchanged`. One query."""
    model = history.model
    hidden = HIDDEN_FIELDS | set(hidden)
    fields = [
        model._meta.get_field(tracked.name)
        for tracked in model.tracked_fields
        if tracked.name not in hidden
    ]
    previous = {f"{_PREVIOUS}{each.attname}": _previous(each.attname) for each in fields}
    previous[f"{_PREVIOUS}history_id"] = _previous("history_id")
    records = (
        history.annotate(**previous)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[:limit]
    )
    rows = []
    for record in records:
        kind = record.history_type
        row = ChangeRow(record, what(record), KINDS.get(kind, kind))
        if kind == "~" and row.previous_id is None:
            row.kind = "First recorded"  # history began after the object was made
        elif kind == "~":
            for each in fields:
                old = getattr(record, f"{_PREVIOUS}{each.attname}")
                if isinstance(each, EncryptedTextField):
                    old = _opened(each, record, old)
                new = getattr(record, each.attname)
                if old != new:
                    row.differences.append((each, old, new))
            if not row.differences and not keep_unchanged:
                continue
        rows.append(row)
    return rows


def _user_ids(rows: list[ChangeRow]) -> set[int]:
    return {
        value
        for row in rows
        for each, old, new in row.differences
        if each.is_relation and each.related_model is User
        for value in (old, new)
        if value is not None
    }


def _order(tagged: tuple[int, ChangeRow]) -> tuple[Any, ...]:
    source, row = tagged
    return (row.record.history_date, source, row.record.history_id)


def changes_describe(
    *row_lists: list[ChangeRow], case_id: int | None, limit: int = CHANGES_LIMIT
) -> list[Change]:
    """Several models' change rows as one list, newest first, cut at `limit`, in the words
    people read. One query for the staff named in changed fields (none if nobody is)."""
    tagged = sorted(
        ((source, row) for source, rows in enumerate(row_lists) for row in rows),
        key=_order,
        reverse=True,
    )[:limit]
    describer = _Describer(case_id=case_id)
    if ids := _user_ids([row for _, row in tagged]):
        describer.users = User.objects.in_bulk(ids)
    changes = []
    for source, row in tagged:
        fields = []
        for each, old, new in row.differences:
            label = str(each.verbose_name)
            label = label[:1].upper() + label[1:]
            if isinstance(each, EncryptedTextField) or (
                isinstance(each, models.JSONField) and not isinstance(new or old, list)
            ):
                fields.append(FieldChange(label, None, None, sealed=True))
            else:
                fields.append(
                    FieldChange(label, describer.value(each, old), describer.value(each, new))
                )
        fields.extend(row.more)
        changes.append(
            Change(
                at=row.record.history_date,
                who=_staff_name(row.record.history_user),
                what=row.what,
                kind=row.kind,
                fields=tuple(fields),
                source=source,
                history_id=row.record.history_id,
                reason=getattr(row.record, "history_change_reason", None) or "",
            )
        )
    return changes


# What a higher app adds to a case's history (referrals: `referral_change_rows`).
MoreRows = Callable[[Case, int], list[ChangeRow]]


def case_change_history(
    *,
    user: User,
    case: Case | str | int,
    more: Iterable[MoreRows] = (),
    limit: int = CHANGES_LIMIT,
) -> CaseHistory:
    """The changes to a case and what hangs off it (its consents, screenings, overrides and
    contacts, and whatever `more` adds), newest first, at most `limit`: for supervisors of
    the case's agency, like its access history (`CaseNotFound` for anyone who cannot see the
    case, `ActionNotAllowed` for those who can but do not supervise it). A fixed number of
    queries, however many rows: the access check, one per model, and one for the staff
    named in changed fields."""
    case = case_access(
        user=user,
        case_reference_or_id=case.pk if isinstance(case, Case) else case,
        action=CaseAction.ASSIGN,
    )
    screening_ids = Screening.objects.filter(case_id=case.pk).values("pk")
    # A contact may have been linked to this case and unlinked since: still its history.
    contact_ids = Contact.history.filter(case_id=case.pk).values("id")
    row_lists = [
        change_rows(Case.history.filter(id=case.pk), what=lambda row: "Case", limit=limit),
        change_rows(
            Consent.history.filter(case_id=case.pk),
            what=lambda row: f"Consent {row.id}",
            hidden=("case",),
            limit=limit,
        ),
        change_rows(
            Screening.history.filter(case_id=case.pk),
            what=lambda row: f"Screening {row.id}",
            hidden=("case", "instrument_version", "consent"),
            limit=limit,
        ),
        change_rows(
            ScreeningOverride.history.filter(screening_id__in=screening_ids),
            what=lambda row: f"Override {row.id} of screening {row.screening_id}",
            hidden=("screening",),
            limit=limit,
        ),
        change_rows(
            Contact.history.filter(id__in=contact_ids),
            what=lambda row: f"Contact {row.id}",
            hidden=("agency",),
            limit=limit,
        ),
        *(rows(case, limit) for rows in more),
    ]
    return CaseHistory(
        case=case, changes=changes_describe(*row_lists, case_id=case.pk, limit=limit)
    )


def _role_names(names: Iterable[str]) -> str:
    labels = sorted(Role(name).label if name in Role.values else name for name in names)
    return ", ".join(labels) or _EMPTY


def staff_change_history(*, user: User, member: User, limit: int = CHANGES_LIMIT) -> list[Change]:
    """Changes to a member of staff, roles included (before → after), newest first: for
    administrators of the member's agency and superusers (`ActionNotAllowed` otherwise).
    Three queries at most: the rows, their roles, and staff named in changed fields."""
    if not may_manage_staff(user, member):
        raise ActionNotAllowed("Only an administrator of the member's agency may see this.")
    historical = User.history.model
    rows = change_rows(
        historical.objects.filter(id=member.pk),
        what=lambda row: "Member of staff",
        limit=limit,
        keep_unchanged=True,
    )
    ids = {row.record.history_id for row in rows} | {row.previous_id for row in rows}
    roles: dict[int, set[str]] = {history_id: set() for history_id in ids if history_id}
    for membership in historical.groups.model.objects.filter(history_id__in=roles).values_list(
        "history_id", "group__name"
    ):
        roles[membership[0]].add(membership[1])
    kept = []
    for row in rows:
        if row.kind == "Changed":
            before, after = roles[row.previous_id], roles[row.record.history_id]
            if before != after:
                row.more.append(FieldChange("Roles", _role_names(before), _role_names(after)))
            if not row.differences and not row.more and not row.record.history_change_reason:
                continue
        kept.append(row)
    return changes_describe(kept, case_id=None, limit=limit)
