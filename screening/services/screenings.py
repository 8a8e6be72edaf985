"""Writes for screenings: start (safety gate + consent; an observation checklist of a place
without either), autosave, submit (score, store, raise flags, hand over to routing), review,
override, void."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from config.access_log import SCREENING, access_log_note
from config.errors import (
    ActionNotAllowed,
    ConflictError,
    ConsentRequired,
    InvalidState,
    SafetyStop,
    ValidationError,
)
from config.history import history_user_set
from config.outbox import outbox_emit
from indicators.engine import AnswerError, score, validate_answers
from indicators.models import InstrumentVersion
from indicators.selectors import instrument_definition
from screening.events import SCREENING_OVERRIDDEN, SCREENING_SUBMITTED
from screening.models import Case, Consent, Screening, ScreeningOverride, User
from screening.permissions import CaseAction, ScreeningAction, case_access, screening_access
from screening.services._common import clean_text, raise_if
from screening.services.consents import consent_record

# Engine flags that oblige a report to child welfare, whatever consent says (practice guide).
MANDATORY_REPORT_FLAGS = frozenset({"minor", "mandatory_report", "child_welfare_referral"})
URGENT_FLAGS = frozenset({"immediate_danger", "urgent"})

SUBMITTED_CANNOT_CHANGE = (
    "This screening was submitted and its answers cannot change. Start a new screening, or ask "
    "a supervisor to record an override."
)


def _engine_problems(error: AnswerError) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for problem in error.problems:
        section = getattr(problem, "section", "answers")
        key = problem.key if section == "answers" else f"{section}.{problem.key}"
        problems.setdefault(key, []).append(getattr(problem, "message", str(problem)))
    return problems


def _case_context(case: Case, *, observation: bool = False) -> dict[str, Any]:
    """What the engine may know about the person: only the keys its rules use. An observation
    checklist concerns a place and is told nothing about any person."""
    if observation:
        return {}
    return {"age": case.age, "exploitation_type": case.exploitation_type}


def _is_observation(screening: Screening) -> bool:
    return instrument_definition(screening.instrument_version).is_observation


def _require_active_consent(screening: Screening) -> None:
    # An observation checklist records what the officer saw at a place: no person was asked
    # anything, so there is no consent to rest on (docs/observation-checklists.md).
    if screening.consent_id is None and _is_observation(screening):
        return
    if (
        screening.consent_id is None
        or not Consent.objects.filter(pk=screening.consent_id).active().exists()
    ):
        raise ConsentRequired(
            "The person's consent to this screening is no longer active: stop here. "
            "Answers already saved are kept as they are."
        )


def _require_draft(screening: Screening) -> None:
    if screening.status == Screening.Status.VOIDED:
        raise InvalidState("This screening was voided.")
    if screening.status != Screening.Status.DRAFT:
        raise InvalidState(SUBMITTED_CANNOT_CHANGE)
    if not screening.case.is_open:
        raise InvalidState("This case is closed.")


@transaction.atomic
def screening_start(
    *,
    case: Case,
    by: User,
    instrument_version: InstrumentVersion,
    setting: str,
    safe_to_talk: str,
    alone: str,
    interpreter_used: bool = False,
    interpreter_language: str = "",
    interpreter_independent: bool | None = None,
    consent: Consent | None = None,
) -> Screening:
    """Start a draft screening after the safety gate and with the person's screening consent.

    Safety first: when the person says it is not safe to talk now, or they are not alone,
    nothing is recorded and `SafetyStop` says to stop. An interpreter must be independent (not
    family, a companion or from the person's community). `consent` defaults to the case's
    newest active screening consent; without one, `ConsentRequired`.
    """
    case = case_access(
        user=by, case_reference_or_id=case.pk, action=CaseAction.CHANGE, for_update=True
    )
    if safe_to_talk != Screening.SafetyAnswer.YES:
        raise SafetyStop(
            "The person said it is not safe to talk now. Stop here: nothing has been recorded. "
            "If you can, agree a safe way and time to talk again."
        )
    if alone != Screening.SafetyAnswer.YES:
        raise SafetyStop(
            "The person is not alone. A companion may be controlling them: stop here and find "
            "a way to speak to them alone (an independent interpreter may stay)."
        )
    problems: dict[str, list[str]] = {}
    if setting not in Screening.Setting.values:
        problems["setting"] = [f"Choose one of: {', '.join(Screening.Setting.values)}."]
    if interpreter_used:
        if not clean_text(interpreter_language):
            problems["interpreter_language"] = ["Say which language the interpreter uses."]
        if interpreter_independent is not True:
            problems["interpreter_independent"] = [
                "Use an independent interpreter: never a family member, a companion or someone "
                "from the person's community."
            ]
    published = InstrumentVersion.objects.filter(
        pk=instrument_version.pk, status=InstrumentVersion.Status.PUBLISHED
    ).first()
    if published is None:
        problems["instrument_version"] = ["Only a published instrument version can be used."]
    elif instrument_definition(published).is_observation:
        problems["instrument_version"] = [OBSERVATION_NOT_A_CONVERSATION]
    raise_if(problems)
    if not case.is_open:
        raise InvalidState("This case is closed.")

    # Read consent and version from the database, never trust the caller's (possibly stale)
    # objects: a consent withdrawn a second ago must stop this.
    screening_consents = case.consents.filter(scope=Consent.Scope.SCREENING).active()
    if consent is not None:
        screening_consents = screening_consents.filter(pk=consent.pk)
    consent = screening_consents.order_by("-given_at", "-pk").first()
    if consent is None:
        raise ConsentRequired(
            "Record the person's consent to be screened before starting. Explain the limits "
            "of confidentiality first, including mandatory reporting."
        )

    screening = Screening(
        case=case,
        instrument_version=published,
        screener=by,
        setting=setting,
        safe_to_talk=safe_to_talk,
        alone=alone,
        interpreter_used=interpreter_used,
        interpreter_language=clean_text(interpreter_language) if interpreter_used else "",
        interpreter_independent=interpreter_independent if interpreter_used else None,
        consent=consent,
        context=_case_context(case),
    )
    history_user_set(screening, by)
    screening.save()
    access_log_note(object_type=SCREENING, object_ref=str(screening.pk), case_id=case.pk)
    return screening


OBSERVATION_NOT_A_CONVERSATION = (
    "This questionnaire is an observation checklist of a place: it has no safety questions and "
    "no consent, because no person is questioned. Start it as an observation."
)
CONVERSATION_NOT_AN_OBSERVATION = (
    "This questionnaire is a conversation with a person: start it with the safety questions "
    "and the person's consent."
)


@transaction.atomic
def observation_start(
    *,
    case: Case,
    by: User,
    instrument_version: InstrumentVersion,
    setting: str = Screening.Setting.PREMISES_INSPECTION,
) -> Screening:
    """Start a draft observation checklist: what the officer observes about a place.

    No safety gate and no consent: nobody is questioned, and the answers describe a place,
    never a person (the gate's fields stay blank, which the database allows only without a
    consent). Only a published version that declares `subject: place` can be started here;
    a person's questionnaire always goes through `screening_start`.
    """
    case = case_access(
        user=by, case_reference_or_id=case.pk, action=CaseAction.CHANGE, for_update=True
    )
    problems: dict[str, list[str]] = {}
    published = InstrumentVersion.objects.filter(
        pk=instrument_version.pk, status=InstrumentVersion.Status.PUBLISHED
    ).first()
    if published is None:
        problems["instrument_version"] = ["Only a published instrument version can be used."]
    elif not instrument_definition(published).is_observation:
        problems["instrument_version"] = [CONVERSATION_NOT_AN_OBSERVATION]
    if setting not in Screening.Setting.values:
        problems["setting"] = [f"Choose one of: {', '.join(Screening.Setting.values)}."]
    raise_if(problems)
    if not case.is_open:
        raise InvalidState("This case is closed.")
    screening = Screening(
        case=case,
        instrument_version=published,
        screener=by,
        setting=setting,
        safe_to_talk=Screening.GATE_NOT_ASKED,
        alone=Screening.GATE_NOT_ASKED,
        consent=None,
        context=_case_context(case, observation=True),
    )
    history_user_set(screening, by)
    screening.save()
    access_log_note(object_type=SCREENING, object_ref=str(screening.pk), case_id=case.pk)
    return screening


@transaction.atomic
def screening_start_with_consent(
    *,
    case: Case,
    by: User,
    instrument_version: InstrumentVersion,
    setting: str,
    safe_to_talk: str,
    alone: str,
    consent_method: str,
    witness: str = "",
    interpreter_used: bool = False,
    interpreter_language: str = "",
    interpreter_independent: bool | None = None,
) -> Screening:
    """Record the person's screening consent and start the screening: both or neither.

    A screening that cannot start (safety stop, bad interpreter) must not leave behind a
    consent nobody saw recorded."""
    consent = consent_record(
        case=case,
        by=by,
        scope=Consent.Scope.SCREENING,
        method=consent_method,
        interpreter_used=interpreter_used,
        interpreter_language=interpreter_language,
        witness=witness,
    )
    return screening_start(
        case=case,
        by=by,
        instrument_version=instrument_version,
        setting=setting,
        safe_to_talk=safe_to_talk,
        alone=alone,
        interpreter_used=interpreter_used,
        interpreter_language=interpreter_language,
        interpreter_independent=interpreter_independent,
        consent=consent,
    )


@transaction.atomic
def screening_save_answers(
    *, screening: Screening, by: User, answers: Mapping[str, Any], expected_version: int
) -> Screening:
    """Autosave draft answers: merged into the draft (`None` clears an answer).

    Every key and value is checked against the instrument version first; one bad answer
    saves nothing and the error names each bad key. A stale `expected_version` raises
    `ConflictError` (someone else saved in between).
    """
    screening = screening_access(
        user=by, screening_id=screening.pk, action=ScreeningAction.CHANGE, for_update=True
    )
    _require_draft(screening)
    if screening.version != expected_version:
        raise ConflictError(
            "Someone else saved this screening since you opened it; reload to see their answers.",
            current_version=screening.version,
        )
    _require_active_consent(screening)
    if not isinstance(answers, Mapping):
        raise ValidationError("Answers must map item keys to answers.", {"answers": ["Not a map."]})
    merged = dict(screening.answers)
    for key, value in answers.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    problems = validate_answers(instrument_definition(screening.instrument_version), merged)
    if problems:
        raise ValidationError(
            "Some answers are not valid for this questionnaire; nothing was saved.",
            _engine_problems(AnswerError(problems)),
        )
    screening.answers = merged
    screening.version += 1
    # No history row per autosave (every few seconds while a draft is filled in): the
    # answers are not in the history, and the status changes that matter are.
    screening.save_without_historical_record(update_fields=["answers", "version", "updated_at"])
    return screening


@transaction.atomic
def screening_submit(
    *, screening: Screening, by: User, expected_version: int | None = None
) -> Screening:
    """Score the draft, store the result snapshot, raise the case's flags, and on commit hand
    the screening over to referral routing.

    Submitting a screening that is already submitted (a double click, a retried request)
    returns it unchanged: there is only ever one result, scored once.
    """
    screening = screening_access(
        user=by, screening_id=screening.pk, action=ScreeningAction.CHANGE, for_update=True
    )
    if screening.has_result:
        return screening
    _require_draft(screening)
    if expected_version is not None and screening.version != expected_version:
        raise ConflictError(
            "Someone else saved this screening since you opened it; review it before submitting.",
            current_version=screening.version,
        )
    _require_active_consent(screening)
    case = screening.case
    context = _case_context(case, observation=_is_observation(screening))
    try:
        result = score(
            instrument_definition(screening.instrument_version), screening.answers, context
        ).to_dict()
    except AnswerError as error:
        raise ValidationError(
            "This screening cannot be scored; nothing was submitted.", _engine_problems(error)
        ) from None

    now = timezone.now()
    screening.result = result
    screening.outcome = result["outcome"]
    screening.engine_version = result["engine_version"]
    screening.context = context
    screening.status = Screening.Status.SUBMITTED
    screening.submitted_at = now
    screening.submitted_by = by
    screening.version += 1
    history_user_set(screening, by)
    screening.save(
        update_fields=[
            "result",
            "outcome",
            "engine_version",
            "context",
            "status",
            "submitted_at",
            "submitted_by",
            "version",
            "updated_at",
        ]
    )

    # Flags on the case. A minor is reported to child welfare; consent cannot block that.
    flags = set(result.get("flags", ()))
    changed = []
    if (flags & MANDATORY_REPORT_FLAGS or case.is_minor) and not case.mandatory_report_required:
        case.mandatory_report_required = True
        changed.append("mandatory_report_required")
    if flags & URGENT_FLAGS and not case.urgent:
        case.urgent = True
        changed.append("urgent")
    if changed:
        history_user_set(case, by)
        case.save(update_fields=[*changed, "updated_at"])

    # The hand-over to referral routing: a `screening.submitted` event in this transaction
    # (DESIGN: on_commit alone loses it if the process dies right after commit). It commits
    # or rolls back with the result; published right after commit, the relay as the net.
    outbox_emit(topic=SCREENING_SUBMITTED, subject=screening)
    return screening


@transaction.atomic
def screening_review(*, screening: Screening, by: User, note: str = "") -> Screening:
    """A supervisor of the case's agency, other than the screener, reviews a submitted
    screening. The stored result is not touched."""
    screening = screening_access(
        user=by, screening_id=screening.pk, action=ScreeningAction.REVIEW, for_update=True
    )
    if screening.status == Screening.Status.REVIEWED:
        raise InvalidState("This screening has already been reviewed.")
    if screening.status != Screening.Status.SUBMITTED:
        raise InvalidState("Only a submitted screening can be reviewed.")
    if screening.submitted_by_id == by.pk:
        raise ActionNotAllowed("A screening is reviewed by someone other than who submitted it.")
    screening.status = Screening.Status.REVIEWED
    screening.reviewed_at = timezone.now()
    screening.reviewed_by = by
    screening.review_note = clean_text(note)
    screening.version += 1
    history_user_set(screening, by)
    screening.save(
        update_fields=[
            "status",
            "reviewed_at",
            "reviewed_by",
            "review_note",
            "version",
            "updated_at",
        ]
    )
    return screening


@transaction.atomic
def screening_override(
    *, screening: Screening, by: User, outcome: str, reason_code: str, note: str
) -> ScreeningOverride:
    """A supervisor records a different outcome with a reason code and a note. The computed
    result stays as it was; the newest override is the one in force."""
    screening = screening_access(
        user=by, screening_id=screening.pk, action=ScreeningAction.OVERRIDE, for_update=True
    )
    if not screening.has_result:
        raise InvalidState("Only a submitted screening's outcome can be overridden.")
    definition = instrument_definition(screening.instrument_version)
    bands = [band.key for band in definition.outcomes]
    current = screening.overrides.order_by("-at", "-pk").first()
    in_force = current.outcome if current else screening.outcome
    problems: dict[str, list[str]] = {}
    if outcome not in bands:
        problems["outcome"] = [f"Choose one of this instrument's outcomes: {', '.join(bands)}."]
    elif outcome == in_force:
        problems["outcome"] = ["This is already the outcome in force."]
    if reason_code not in ScreeningOverride.ReasonCode.values:
        problems["reason_code"] = [
            f"Choose one of: {', '.join(ScreeningOverride.ReasonCode.values)}."
        ]
    if not clean_text(note):
        problems["note"] = ["Explain the override."]
    raise_if(problems)
    override = ScreeningOverride(
        screening=screening, outcome=outcome, reason_code=reason_code, note=clean_text(note), by=by
    )
    history_user_set(override, by)
    override.save()
    # Routing looks at the outcome in force, which just changed (same outbox pattern).
    outbox_emit(topic=SCREENING_OVERRIDDEN, subject=screening)
    return override


@transaction.atomic
def screening_void(*, screening: Screening, by: User, reason: str) -> Screening:
    """Void a screening (started in error, wrong person, ...). A draft can be voided by whoever
    may change the case; a submitted one only by a supervisor of the case's agency.
    Voiding a voided screening changes nothing."""
    screening = screening_access(
        user=by, screening_id=screening.pk, action=ScreeningAction.VOID, for_update=True
    )
    if screening.status == Screening.Status.VOIDED:
        return screening
    if screening.has_result and not screening.case.user_supervises:
        raise ActionNotAllowed("Only a supervisor can void a submitted screening.")
    raise_if({} if clean_text(reason) else {"reason": ["Say why the screening is voided."]})
    screening.status = Screening.Status.VOIDED
    screening.voided_at = timezone.now()
    screening.voided_by = by
    screening.void_reason = clean_text(reason)
    screening.version += 1
    history_user_set(screening, by)
    screening.save(
        update_fields=["status", "voided_at", "voided_by", "void_reason", "version", "updated_at"]
    )
    return screening
