"""Case notes: the workers' running record of a case (contact attempts, safety planning,
service updates). Sealed like the narrative; a correction is a new version of the note, the
earlier ones kept in the change history (ciphertext only)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from config.access_log import access_log_note
from config.errors import ActionNotAllowed, ConflictError, InvalidState, NotFound
from config.history import history_user_set
from screening.models import Case, CaseNote, User
from screening.permissions import CaseAction, case_access
from screening.services._common import raise_if

NOTE = "note"


class NoteNotFound(NotFound):
    def __init__(self, message: str = "No such note.") -> None:
        super().__init__(message)


def _checked(kind: str, text: str) -> str:
    cleaned = (text or "").strip()
    problems: dict[str, list[str]] = {}
    if kind not in CaseNote.Kind.values:
        problems["kind"] = ["Choose what the note is about."]
    if not cleaned:
        problems["text"] = ["Write the note."]
    elif len(cleaned) > CaseNote.MAX_LENGTH:
        problems["text"] = [f"Keep the note under {CaseNote.MAX_LENGTH} characters."]
    raise_if(problems)
    return cleaned


def note_access(*, user: User, note_id: int | str, action: str = CaseAction.VIEW) -> CaseNote:
    """The note, if `user` may do `action` (a `CaseAction`) with its case: `NoteNotFound`
    for a missing note or one on a case they cannot see; reading a note's text needs what
    changing the case needs (the text is narrative, like the case's own)."""
    try:
        pk = int(note_id)
    except (TypeError, ValueError):
        raise NoteNotFound() from None
    case_id = CaseNote.objects.filter(pk=pk).values_list("case_id", flat=True).first()
    if case_id is None:
        raise NoteNotFound()
    try:
        case = case_access(user=user, case_reference_or_id=case_id, action=action)
    except NotFound:
        raise NoteNotFound() from None
    note = CaseNote.objects.select_related("author").get(pk=pk)
    note.case = case
    access_log_note(object_type=NOTE, object_ref=str(pk), case_id=case_id)
    return note


@transaction.atomic
def case_note_add(*, case: Case, by: User, kind: str, text: str) -> CaseNote:
    """Add a note to an open case; anyone who may change the case may."""
    case = case_access(
        user=by, case_reference_or_id=case.pk, action=CaseAction.CHANGE, for_update=True
    )
    if not case.is_open:
        raise InvalidState("This case is closed; reopen it to add notes.")
    note = CaseNote(case=case, kind=kind, author=by, text=_checked(kind, text))
    history_user_set(note, by)
    note.save()
    access_log_note(object_type=NOTE, object_ref=str(note.pk), case_id=case.pk)
    return note


@transaction.atomic
def case_note_correct(
    *, note: CaseNote, by: User, text: str, kind: str | None = None, expected_version: int
) -> CaseNote:
    """The author corrects their note: the text (and kind) change, the version goes up, the
    earlier version stays in the change history. `expected_version` is the version the
    author read (a second tab's older copy is a conflict, not a silent overwrite)."""
    note = note_access(user=by, note_id=note.pk, action=CaseAction.CHANGE)
    note = CaseNote.objects.select_for_update().get(pk=note.pk)
    if note.author_id != by.pk:
        raise ActionNotAllowed("Only the author corrects a note; add a note of your own.")
    kind = kind or note.kind
    cleaned = _checked(kind, text)
    if note.version != expected_version:
        raise ConflictError(
            "This note was corrected since you opened it.", current_version=note.version
        )
    if cleaned == note.text and kind == note.kind:
        return note
    note.text, note.kind = cleaned, kind
    note.version += 1
    note.corrected_at = timezone.now()
    history_user_set(note, by)
    note.save(update_fields=["text", "kind", "version", "corrected_at"])
    return note
