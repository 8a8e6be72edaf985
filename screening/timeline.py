"""A case's timeline: notes, screenings, consents, contacts, assignments, shares, transfers,
closings, and whatever other apps add (referrals and their events), newest first, in one list.

Each source is a function that reads its own rows after a cursor, newest first, at most a
page of them; `case_timeline_page` merges the sources' pages and cuts one page from the merge.
The cursor is the key of the page's last entry (time, source rank, id): ids, numbers and a
timestamp, never text (config/keyset.py). One query per source, however long the case; none
for a source whose rows the caller has already read whole (`already_read`: the case page
holds every screening and consent of the case for its own lists), which cuts its page from
those rows in Python, in the same order and after the same cursor as its query would.

Apps above screening register their sources from a `timeline.py` module of their own
(discovered at start-up, like `labels.py`): screening never imports them. An entry's `detail`
holds narrative (a note's text) only for those who may read the case's narrative, that is who
may change the case; others see that a note was written, by whom and when.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.urls import reverse

from config.keyset import CursorInvalid, KeyField, cursor_decode, cursor_encode
from screening.models import (
    Case,
    CaseActivity,
    CaseCloseReason,
    CaseNote,
    Consent,
    Contact,
    Screening,
    User,
)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    source: str
    id: int
    title: str
    detail: str = ""
    by: str = ""
    link: str = ""
    kind: str = ""
    # Who made it (a staff account's id), where the page offers its author something.
    by_id: int | None = None


@dataclass(frozen=True)
class TimelineCursor:
    at: datetime
    rank: int
    id: int


@dataclass(frozen=True)
class TimelineQuery:
    """What a source is asked for: the case, the rows older than `cursor` (None: from the
    newest), at most `limit`, and whether narrative may be shown. `already_read` holds, by
    model, every row of the case the caller has read already (with the related rows the
    sources use)."""

    case: Case
    cursor: TimelineCursor | None
    rank: int
    limit: int
    may_read_narrative: bool
    already_read: Mapping[type[Model], Sequence[Model]] = field(default_factory=dict)

    def older(self, rows: QuerySet, field: str) -> QuerySet:
        """`rows` after the cursor in timeline order (`field` desc, id desc), a page long."""
        if self.cursor is not None:
            at, rank, pk = self.cursor.at, self.cursor.rank, self.cursor.id
            if self.rank < rank:
                rows = rows.filter(**{f"{field}__lte": at})
            elif self.rank == rank:
                rows = rows.filter(Q(**{f"{field}__lt": at}) | Q(**{field: at, "pk__lt": pk}))
            else:
                rows = rows.filter(**{f"{field}__lt": at})
        return rows.order_by(f"-{field}", "-pk")[: self.limit]

    def older_read(self, model: type[Model], field: str) -> list[Model] | None:
        """What `older` would give for `model`'s rows of the case with `field` set, cut from
        the rows in `already_read` without a query; None when the caller has not read them."""
        rows = self.already_read.get(model)
        if rows is None:
            return None
        kept = [row for row in rows if getattr(row, field) is not None]
        if self.cursor is not None:
            at, rank, pk = self.cursor.at, self.cursor.rank, self.cursor.id
            if self.rank < rank:
                kept = [row for row in kept if getattr(row, field) <= at]
            elif self.rank == rank:
                kept = [
                    row
                    for row in kept
                    if getattr(row, field) < at or (getattr(row, field) == at and row.pk < pk)
                ]
            else:
                kept = [row for row in kept if getattr(row, field) < at]
        kept.sort(key=lambda row: (getattr(row, field), row.pk), reverse=True)
        return kept[: self.limit]


Source = Callable[[TimelineQuery], list[TimelineEntry]]
_sources: dict[str, tuple[int, Source]] = {}


def timeline_source_register(name: str, *, rank: int, source: Source) -> None:
    """Add a source of entries. `rank` orders entries of the same instant (and keys the
    cursor): unique per source, stable across releases."""
    for other, (other_rank, _) in _sources.items():
        if other != name and other_rank == rank:
            raise ValueError(f"timeline rank {rank} is taken by {other}")
    _sources[name] = (rank, source)


def who(user: User | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


# What `who` reads of a staff account.
WHO_FIELDS = ("first_name", "last_name", "username")


def who_fields(*relations: str) -> tuple[str, ...]:
    """`only()` names for the people rows name through `relations`: the foreign key and what
    `who` reads, so a source loads none of the account's other columns."""
    return tuple(
        name
        for relation in relations
        for name in (relation, *(f"{relation}__{field}" for field in WHO_FIELDS))
    )


# --- screening's own sources -----------------------------------------------------------


def _notes(query: TimelineQuery) -> list[TimelineEntry]:
    rows = query.older(
        CaseNote.objects.filter(case=query.case)
        .select_related("author")
        .only("case", "kind", "row_uid", "text", "version", "created_at", *who_fields("author")),
        "created_at",
    )
    return [
        TimelineEntry(
            at=note.created_at,
            source="note",
            id=note.pk,
            kind=note.kind,
            title=f"Note: {note.get_kind_display().lower()}"
            + (" (corrected)" if note.version > 1 else ""),
            detail=note.text if query.may_read_narrative else "",
            by=who(note.author),
            by_id=note.author_id,
        )
        for note in rows
    ]


def _screenings_started(query: TimelineQuery) -> list[TimelineEntry]:
    rows = query.older_read(Screening, "started_at")
    if rows is None:
        rows = query.older(
            Screening.objects.filter(case=query.case).select_related(
                "instrument_version", "screener"
            ),
            "started_at",
        )
    return [
        TimelineEntry(
            at=screening.started_at,
            source="screening_started",
            id=screening.pk,
            title=f"Screening started: {screening.instrument_version.title}",
            by=who(screening.screener),
        )
        for screening in rows
    ]


def _screenings_submitted(query: TimelineQuery) -> list[TimelineEntry]:
    rows = query.older_read(Screening, "submitted_at")
    if rows is None:
        rows = query.older(
            Screening.objects.filter(case=query.case, submitted_at__isnull=False).select_related(
                "instrument_version", "submitted_by"
            ),
            "submitted_at",
        )
    return [
        TimelineEntry(
            at=screening.submitted_at,
            source="screening_submitted",
            id=screening.pk,
            title=f"Screening submitted: {screening.instrument_version.title}",
            by=who(screening.submitted_by),
            link=reverse("screening:screening-result", kwargs={"screening_id": screening.pk}),
        )
        for screening in rows
    ]


def _consents_given(query: TimelineQuery) -> list[TimelineEntry]:
    rows = query.older_read(Consent, "given_at")
    if rows is None:
        rows = query.older(
            Consent.objects.filter(case=query.case).select_related("given_by"), "given_at"
        )
    return [
        TimelineEntry(
            at=consent.given_at,
            source="consent_given",
            id=consent.pk,
            title=f"Consent given: {consent.get_scope_display().lower()}",
            by=who(consent.given_by),
        )
        for consent in rows
    ]


def _consents_withdrawn(query: TimelineQuery) -> list[TimelineEntry]:
    rows = query.older_read(Consent, "withdrawn_at")
    if rows is None:
        rows = query.older(
            Consent.objects.filter(case=query.case, withdrawn_at__isnull=False).select_related(
                "withdrawn_by"
            ),
            "withdrawn_at",
        )
    return [
        TimelineEntry(
            at=consent.withdrawn_at,
            source="consent_withdrawn",
            id=consent.pk,
            title=f"Consent withdrawn: {consent.get_scope_display().lower()}",
            by=who(consent.withdrawn_by),
        )
        for consent in rows
    ]


def _contacts(query: TimelineQuery) -> list[TimelineEntry]:
    rows = query.older(
        Contact.objects.filter(case=query.case)
        .select_related("created_by")
        .only("case", "created_at", "contact_type", "channel", *who_fields("created_by")),
        "created_at",
    )
    return [
        TimelineEntry(
            at=contact.created_at,
            source="contact",
            id=contact.pk,
            title=f"Hotline contact: {contact.get_contact_type_display().lower()} "
            f"by {contact.get_channel_display().lower()}",
            by=who(contact.created_by),
        )
        for contact in rows
    ]


def _activity_title(activity: CaseActivity) -> str:
    title = activity.get_kind_display()
    if activity.worker_id is not None:
        title = f"{title}: {who(activity.worker)}"
    elif activity.agency_id is not None:
        title = f"{title}: {activity.agency.name}"
    if activity.close_reason:
        title = f"{title} ({CaseCloseReason(activity.close_reason).label.lower()})"
    return title


def _activities(query: TimelineQuery) -> list[TimelineEntry]:
    rows = query.older(
        CaseActivity.objects.filter(case=query.case)
        .select_related("by", "worker", "agency")
        .only(
            "case",
            "at",
            "kind",
            "close_reason",
            "agency",
            "agency__name",
            *who_fields("by", "worker"),
        ),
        "at",
    )
    return [
        TimelineEntry(
            at=activity.at,
            source="activity",
            id=activity.pk,
            kind=activity.kind,
            title=_activity_title(activity),
            by=who(activity.by),
        )
        for activity in rows
    ]


timeline_source_register("note", rank=10, source=_notes)
timeline_source_register("screening_started", rank=20, source=_screenings_started)
timeline_source_register("screening_submitted", rank=21, source=_screenings_submitted)
timeline_source_register("consent_given", rank=30, source=_consents_given)
timeline_source_register("consent_withdrawn", rank=31, source=_consents_withdrawn)
timeline_source_register("contact", rank=40, source=_contacts)
timeline_source_register("activity", rank=50, source=_activities)


# --- the page --------------------------------------------------------------------------

_CURSOR_FIELDS = (
    KeyField("at", descending=True, kind=datetime),
    KeyField("rank", descending=True, kind=int),
    KeyField("id", descending=True, kind=int),
)


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]
    next_cursor: str | None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    def __iter__(self):
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)


def _sort_key(entry: TimelineEntry) -> tuple[Any, ...]:
    return (entry.at, _sources[entry.source][0], entry.id)


def case_timeline_page(
    *,
    case: Case,
    may_read_narrative: bool,
    per_page: int = 25,
    after: str | None = None,
    already_read: Mapping[type[Model], Sequence[Model]] | None = None,
) -> TimelinePage:
    """One page of the case's timeline (the case already accessed by the caller), newest
    first, after the cursor `after`. `CursorInvalid` for a cursor the timeline did not give.
    `already_read`: every row of the case of a model (e.g. `{Screening: [...]}`), already
    read by the caller with the related rows the sources name, used instead of a query."""
    cursor = None
    if after:
        at, rank, pk = cursor_decode(after, _CURSOR_FIELDS)
        if not isinstance(at, datetime):
            raise CursorInvalid("not a timeline cursor")
        cursor = TimelineCursor(at=at, rank=rank, id=pk)
    entries: list[TimelineEntry] = []
    for name, (rank, source) in sorted(_sources.items(), key=lambda item: item[1][0]):
        query = TimelineQuery(
            case=case,
            cursor=cursor,
            rank=rank,
            limit=per_page + 1,
            may_read_narrative=may_read_narrative,
            already_read=already_read or {},
        )
        for entry in source(query):
            if entry.source != name:
                entry = TimelineEntry(**{**entry.__dict__, "source": name})
            entries.append(entry)
    entries.sort(key=_sort_key, reverse=True)
    page, more = entries[:per_page], len(entries) > per_page
    next_cursor = None
    if more and page:
        last = page[-1]
        next_cursor = cursor_encode([last.at, _sources[last.source][0], last.id])
    return TimelinePage(entries=page, next_cursor=next_cursor)
