import pytest
from django.db import transaction

from config import errors
from config.models import OutboxMessage
from screening import services
from screening.events import CONSENT_RECORDED, SCREENING_SUBMITTED
from screening.models import Case, Consent, Screening, ScreeningOverride
from tests.outbox import outbox_rows

pytestmark = pytest.mark.django_db


def save(screening, by, answers):
    return services.screening_save_answers(
        screening=screening, by=by, answers=answers, expected_version=screening.version
    )


# --- start ------------------------------------------------------------------------------------


def test_start_records_the_safety_gate_consent_and_exact_version(
    case, screening_consent, start_screening, instrument_version
):
    screening = start_screening(
        case, interpreter_used=True, interpreter_language="es", interpreter_independent=True
    )
    assert screening.status == Screening.Status.DRAFT
    assert screening.consent == screening_consent
    assert screening.instrument_version == instrument_version
    assert screening.interpreter_independent is True
    assert screening.context == {"age": 30, "exploitation_type": "unknown"}
    assert screening.result is None


def test_not_safe_to_talk_stops_and_records_nothing(case, screening_consent, start_screening):
    with pytest.raises(errors.SafetyStop, match="not safe to talk"):
        start_screening(case, safe_to_talk="no")
    with pytest.raises(errors.SafetyStop, match="not alone"):
        start_screening(case, alone="no")
    assert not Screening.objects.exists()


def test_a_family_member_as_interpreter_is_refused(case, screening_consent, start_screening):
    with pytest.raises(errors.ValidationError) as caught:
        start_screening(
            case, interpreter_used=True, interpreter_language="es", interpreter_independent=False
        )
    assert "interpreter_independent" in caught.value.field_errors
    assert not Screening.objects.exists()


def test_start_needs_a_screening_consent(case, officer, start_screening):
    with pytest.raises(errors.ConsentRequired):
        start_screening(case)
    assert not Screening.objects.exists()


def test_withdrawn_consent_blocks_starting_a_screening(
    case, officer, screening_consent, start_screening
):
    services.consent_withdraw(consent=screening_consent, by=officer)
    with pytest.raises(errors.ConsentRequired):
        start_screening(case)
    with pytest.raises(errors.ConsentRequired):
        start_screening(case, consent=screening_consent)
    assert not Screening.objects.exists()


def test_a_consent_of_another_scope_does_not_cover_screening(case, officer, start_screening):
    consent = services.consent_record(
        case=case,
        by=officer,
        scope=Consent.Scope.REFERRAL_SERVICE_TYPE,
        method=Consent.Method.WRITTEN,
        service_type="shelter",
        valid_until=case.created_at.replace(year=case.created_at.year + 1),
    )
    with pytest.raises(errors.ConsentRequired):
        start_screening(case, consent=consent)


def test_a_draft_instrument_version_cannot_be_used(
    case, screening_consent, start_screening, load_flag_screen
):
    draft_version = load_flag_screen(version=2, status="draft")
    with pytest.raises(errors.ValidationError) as caught:
        start_screening(case, instrument_version=draft_version)
    assert "instrument_version" in caught.value.field_errors


def test_another_agencys_case_cannot_be_screened(
    case, screening_consent, start_screening, outsider
):
    with pytest.raises(errors.CaseNotFound):
        start_screening(case, by=outsider)
    assert not Screening.objects.exists()


# --- autosave ---------------------------------------------------------------------------------


def test_answers_are_merged_and_versioned(draft, officer):
    first = save(draft, officer, {"ran_away": "yes", "injury": "declined"})
    second = save(first, officer, {"injury": None, "sleeping_place": "workplace"})

    assert second.answers == {"ran_away": "yes", "sleeping_place": "workplace"}
    assert second.version == draft.version + 2
    draft.refresh_from_db()
    assert draft.answers == second.answers


def test_unknown_keys_and_invalid_values_are_named_and_nothing_is_saved(draft, officer):
    save(draft, officer, {"ran_away": "yes"})
    draft.refresh_from_db()
    version = draft.version

    with pytest.raises(errors.ValidationError) as caught:
        services.screening_save_answers(
            screening=draft,
            by=officer,
            answers={
                "injury": "yes",
                "not_an_item": "yes",
                "police_contact": "maybe",
                "sleeping_place": "moon",
            },
            expected_version=version,
        )

    assert set(caught.value.field_errors) == {"not_an_item", "police_contact", "sleeping_place"}
    draft.refresh_from_db()
    assert draft.answers == {"ran_away": "yes"}  # not even the valid "injury" was saved
    assert draft.version == version


def test_a_stale_version_is_a_conflict_and_saves_nothing(draft, officer, colleague, supervisor):
    services.case_assign(case=draft.case, worker=colleague, by=supervisor)
    stale = draft.version
    save(draft, colleague, {"ran_away": "no"})

    with pytest.raises(errors.ConflictError) as caught:
        services.screening_save_answers(
            screening=draft, by=officer, answers={"ran_away": "yes"}, expected_version=stale
        )
    assert caught.value.current_version == stale + 1
    draft.refresh_from_db()
    assert draft.answers == {"ran_away": "no"}


def test_saving_stops_once_the_consent_is_withdrawn(draft, officer, screening_consent):
    services.consent_withdraw(consent=screening_consent, by=officer)
    with pytest.raises(errors.ConsentRequired):
        save(draft, officer, {"ran_away": "yes"})
    with pytest.raises(errors.ConsentRequired):
        services.screening_submit(screening=draft, by=officer)
    draft.refresh_from_db()
    assert draft.answers == {}
    assert draft.status == Screening.Status.DRAFT


def test_a_worker_of_a_shared_to_agency_cannot_fill_in_answers(
    draft, supervisor, outsider, other_agency
):
    services.case_share(case=draft.case, agency=other_agency, reason="Joint", by=supervisor)
    with pytest.raises(errors.ActionNotAllowed):
        save(draft, outsider, {"ran_away": "yes"})


# --- submit -----------------------------------------------------------------------------------


def test_submit_stores_the_engine_result_snapshot(
    draft, officer, django_capture_on_commit_callbacks
):
    draft = save(draft, officer, {"ran_away": "yes", "police_contact": "yes", "injury": "no"})

    with django_capture_on_commit_callbacks() as callbacks:
        submitted = services.screening_submit(screening=draft, by=officer)

    submitted.refresh_from_db()
    assert submitted.status == Screening.Status.SUBMITTED
    assert submitted.outcome == "screen_positive" == submitted.result["outcome"]
    assert submitted.engine_version == submitted.result["engine_version"]
    assert submitted.result["instrument"]["content_hash"] == draft.instrument_version.content_hash
    assert submitted.submitted_by == officer
    # The hand-over to referral routing is a `screening.submitted` outbox row committed with
    # the result, published right after the commit.
    assert outbox_rows(SCREENING_SUBMITTED, submitted).count() == 1
    assert len(callbacks) == 1


def test_unknown_answers_leave_the_outcome_indeterminate(draft, officer):
    draft = save(draft, officer, {"ran_away": "yes", "police_contact": "unknown"})
    submitted = services.screening_submit(screening=draft, by=officer)
    assert submitted.outcome == "indeterminate"
    assert submitted.result["best_case"] == "screen_negative"
    assert submitted.result["worst_case"] == "screen_positive"


def test_submitting_twice_yields_one_result(draft, officer, django_capture_on_commit_callbacks):
    draft = save(draft, officer, {"ran_away": "yes"})
    first = services.screening_submit(screening=draft, by=officer)
    with django_capture_on_commit_callbacks() as callbacks:
        second = services.screening_submit(screening=draft, by=officer)

    assert second.pk == first.pk
    assert second.result == first.result
    assert second.submitted_at == first.submitted_at
    assert second.version == first.version
    assert callbacks == []  # no second hand-over to routing
    assert outbox_rows(SCREENING_SUBMITTED).count() == 1
    assert Screening.objects.count() == 1


def test_a_submitted_screening_cannot_be_edited(draft, officer):
    draft = save(draft, officer, {"ran_away": "yes"})
    submitted = services.screening_submit(screening=draft, by=officer)

    with pytest.raises(errors.InvalidState, match="cannot change"):
        services.screening_save_answers(
            screening=submitted,
            by=officer,
            answers={"ran_away": "no"},
            expected_version=submitted.version,
        )
    submitted.refresh_from_db()
    assert submitted.answers == {"ran_away": "yes"}


def test_a_minor_raises_the_mandatory_report_flag(officer, instrument_version, start_screening):
    case = services.case_create(created_by=officer)  # age not known at first
    services.consent_record(
        case=case, by=officer, scope=Consent.Scope.SCREENING, method=Consent.Method.VERBAL
    )
    Case.objects.filter(pk=case.pk).update(age=16, age_band=Case.AgeBand.MINOR)
    screening = start_screening(case)

    submitted = services.screening_submit(screening=screening, by=officer)

    assert "minor" in submitted.result["flags"]
    case.refresh_from_db()
    assert case.mandatory_report_required
    assert not case.urgent


def test_immediate_danger_makes_the_case_urgent(draft, officer):
    draft = save(draft, officer, {"in_danger_now": "yes"})
    submitted = services.screening_submit(screening=draft, by=officer)
    assert "immediate_danger" in submitted.result["flags"]
    draft.case.refresh_from_db()
    assert draft.case.urgent
    assert not draft.case.mandatory_report_required


def test_a_rolled_back_submit_leaves_no_routing_request(draft, officer):
    """The routing request is written in the submit's transaction: a submit that is rolled
    back leaves neither a result nor an outbox row behind."""
    with pytest.raises(RuntimeError), transaction.atomic():
        services.screening_submit(screening=draft, by=officer)
        raise RuntimeError("the request failed later")
    assert not outbox_rows(SCREENING_SUBMITTED).exists()
    assert not OutboxMessage.objects.exclude(topic=CONSENT_RECORDED).exists()
    draft.refresh_from_db()
    assert draft.status == Screening.Status.DRAFT
    assert draft.result is None


# --- review, override, void -------------------------------------------------------------------


@pytest.fixture
def submitted(draft, officer):
    draft = save(draft, officer, {"ran_away": "yes", "police_contact": "no", "injury": "no"})
    return services.screening_submit(screening=draft, by=officer)


def test_a_supervisor_reviews_a_submitted_screening(submitted, supervisor):
    reviewed = services.screening_review(screening=submitted, by=supervisor, note="Agree")
    assert reviewed.status == Screening.Status.REVIEWED
    assert reviewed.reviewed_by == supervisor
    assert reviewed.result == submitted.result
    with pytest.raises(errors.InvalidState):
        services.screening_review(screening=submitted, by=supervisor)


def test_only_a_supervisor_other_than_the_screener_reviews(
    submitted, officer, supervisor, draft, start_screening
):
    with pytest.raises(errors.ActionNotAllowed):
        services.screening_review(screening=submitted, by=officer)
    own = start_screening(draft.case, by=supervisor)
    own = services.screening_submit(screening=own, by=supervisor)
    with pytest.raises(errors.ActionNotAllowed):
        services.screening_review(screening=own, by=supervisor)


def test_a_draft_cannot_be_reviewed(draft, supervisor):
    with pytest.raises(errors.InvalidState):
        services.screening_review(screening=draft, by=supervisor)


def test_an_override_is_stored_beside_the_computed_result(submitted, supervisor):
    override = services.screening_override(
        screening=submitted,
        by=supervisor,
        outcome="screen_positive",
        reason_code=ScreeningOverride.ReasonCode.ADDITIONAL_INFORMATION,
        note="Disclosed debt bondage after the screen.",
    )
    submitted.refresh_from_db()
    assert submitted.outcome == "screen_negative"  # the computed result never changes
    assert submitted.result["outcome"] == "screen_negative"
    assert override.outcome == "screen_positive"
    assert override.by == supervisor
    from screening.selectors import screening_outcome_in_force

    assert screening_outcome_in_force(screening=submitted) == "screen_positive"


def test_an_override_needs_a_band_of_the_instrument_a_reason_code_and_a_note(
    submitted, supervisor, officer
):
    with pytest.raises(errors.ValidationError) as caught:
        services.screening_override(
            screening=submitted, by=supervisor, outcome="indeterminate", reason_code="x", note=" "
        )
    assert set(caught.value.field_errors) == {"outcome", "reason_code", "note"}
    with pytest.raises(errors.ValidationError) as caught:
        services.screening_override(
            screening=submitted,
            by=supervisor,
            outcome="screen_negative",
            reason_code="other",
            note="Same as computed",
        )
    assert "outcome" in caught.value.field_errors
    with pytest.raises(errors.ActionNotAllowed):
        services.screening_override(
            screening=submitted,
            by=officer,
            outcome="screen_positive",
            reason_code="other",
            note="Not a supervisor",
        )
    assert not ScreeningOverride.objects.exists()


def test_a_draft_cannot_be_overridden(draft, supervisor):
    with pytest.raises(errors.InvalidState):
        services.screening_override(
            screening=draft,
            by=supervisor,
            outcome="screen_positive",
            reason_code="other",
            note="n",
        )


def test_void_a_draft_or_as_supervisor_a_submitted_screening(
    draft, submitted, officer, supervisor, start_screening
):
    with pytest.raises(errors.ActionNotAllowed):
        services.screening_void(screening=submitted, by=officer, reason="Wrong person")
    with pytest.raises(errors.ValidationError):
        services.screening_void(screening=submitted, by=supervisor, reason="")

    voided = services.screening_void(screening=submitted, by=supervisor, reason="Wrong person")
    assert voided.status == Screening.Status.VOIDED
    assert voided.result == submitted.result  # kept as evidence

    other_draft = start_screening(draft.case)
    assert (
        services.screening_void(
            screening=other_draft, by=officer, reason="Started by mistake"
        ).status
        == Screening.Status.VOIDED
    )
    with pytest.raises(errors.InvalidState):
        services.screening_submit(screening=other_draft, by=officer)
