"""The result page, and the supervisor's review and override from it."""

import pytest
from django.urls import reverse

from screening import services
from screening.models import Agency, Consent, Screening, ScreeningOverride
from screening.roles import Role
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db


def result_url(screening):
    return reverse("screening:screening-result", kwargs={"screening_id": screening.pk})


def override_url(screening):
    return reverse("screening:screening-override", kwargs={"screening_id": screening.pk})


def reviewed_url(screening):
    return reverse("screening:screening-mark-reviewed", kwargs={"screening_id": screening.pk})


OVERRIDE = {
    "override-outcome": "screen_negative",
    "override-reason_code": "interpretation_concern",
    "override-note": "The interpreter was unsure about the second question.",
}


def test_result_needs_login(client, submitted):
    response = client.get(result_url(submitted))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_result_of_another_agency_is_404(client_for, outsider, submitted):
    assert client_for(outsider).get(result_url(submitted)).status_code == 404


def test_result_explains_the_outcome(client_for, officer, submitted):
    response = client_for(officer).get(result_url(submitted))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Screen positive" in page and "Two or more yes answers." in page
    assert "The tool supports your decision; it does not make it." in page
    assert "Positive at two or more yes answers." in page  # the rule that drove it
    assert "Have you ever run away?" in page  # an answer it rests on
    assert "Arrange a fuller assessment." in page  # recommended action
    assert "Questions asked" in page and "Prefer not to say" in page
    assert "Suggested referrals" in page
    assert f"<title>Screening result · Case {submitted.case.reference}" in page
    # Not a supervisor: no override form, and not law enforcement: no reminder.
    assert "Record override" not in page
    assert "Non-punishment principle" not in page
    assert "Mandatory report to child welfare" not in page


def test_a_draft_has_no_result_page_yet(client_for, officer, draft):
    response = client_for(officer).get(result_url(draft))
    assert response["Location"] == reverse(
        "screening:screening-review", kwargs={"screening_id": draft.pk}
    )


def test_an_indeterminate_result_says_so_with_best_and_worst_case(client_for, officer, draft):
    screening = services.screening_submit(screening=draft, by=officer)
    assert screening.outcome == "indeterminate"
    page = client_for(officer).get(result_url(screening)).content.decode()
    assert "Outcome not yet clear" in page
    assert "could change it" in page
    assert "Screen negative" in page and "Screen positive" in page


def test_a_minor_gets_the_mandatory_report_notice(client_for, officer, start_screening):
    case = services.case_create(created_by=officer, age=15)
    services.consent_record(case=case, by=officer, scope="screening", method="verbal")
    screening = services.screening_submit(screening=start_screening(case), by=officer)
    page = client_for(officer).get(result_url(screening)).content.decode()
    assert "Mandatory report to child welfare" in page
    assert "consent cannot block this report" in page


def test_law_enforcement_users_get_the_non_punishment_reminder(client_for, load_flag_screen):
    version = load_flag_screen()
    police = AgencyFactory(name="Police Unit", kind=Agency.Kind.LAW_ENFORCEMENT)
    officer = UserFactory(agency=police, role=Role.FRONTLINE_OFFICER)
    case = services.case_create(created_by=officer, age=30)
    services.consent_record(case=case, by=officer, scope=Consent.Scope.SCREENING, method="verbal")
    draft = services.screening_start(
        case=case,
        by=officer,
        instrument_version=version,
        setting="station",
        safe_to_talk="yes",
        alone="yes",
    )
    draft = services.screening_save_answers(
        screening=draft,
        by=officer,
        answers={"ran_away": "yes", "injury": "yes"},
        expected_version=1,
    )
    screening = services.screening_submit(screening=draft, by=officer)
    page = client_for(officer).get(result_url(screening)).content.decode()
    assert "Non-punishment principle" in page


def test_supervisor_sees_and_uses_the_override_form(client_for, supervisor, submitted):
    client = client_for(supervisor)
    assert "Record override" in client.get(result_url(submitted)).content.decode()
    response = client.post(override_url(submitted), OVERRIDE, follow=True)
    assert response.status_code == 200
    override = ScreeningOverride.objects.get()
    assert override.outcome == "screen_negative" and override.by == supervisor
    page = response.content.decode()
    assert "Supervisor's decision" in page
    submitted.refresh_from_db()
    assert submitted.outcome == "screen_positive"  # the computed result never changes


def test_an_override_without_a_note_is_an_error_and_saves_nothing(
    client_for, supervisor, submitted
):
    response = client_for(supervisor).post(
        override_url(submitted), {**OVERRIDE, "override-note": ""}
    )
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    assert not ScreeningOverride.objects.exists()


def test_a_non_supervisor_cannot_override(client_for, officer, submitted):
    assert client_for(officer).post(override_url(submitted), OVERRIDE).status_code == 403
    assert not ScreeningOverride.objects.exists()


def test_another_agency_cannot_override_or_review(client_for, outsider, submitted):
    client = client_for(outsider)
    assert client.post(override_url(submitted), OVERRIDE).status_code == 404
    assert client.post(reviewed_url(submitted), {}).status_code == 404
    assert not ScreeningOverride.objects.exists()


def test_override_and_review_need_login(client, submitted):
    assert client.post(override_url(submitted), OVERRIDE).status_code == 302
    assert client.post(reviewed_url(submitted), {}).status_code == 302
    assert not ScreeningOverride.objects.exists()


def test_supervisor_marks_a_screening_reviewed(client_for, supervisor, submitted):
    response = client_for(supervisor).post(
        reviewed_url(submitted), {"review-note": "Checked with the officer."}, follow=True
    )
    assert "marked as reviewed" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == Screening.Status.REVIEWED
    assert submitted.review_note == "Checked with the officer."


def test_a_non_supervisor_cannot_mark_reviewed(client_for, officer, submitted):
    assert client_for(officer).post(reviewed_url(submitted), {}).status_code == 403
    submitted.refresh_from_db()
    assert submitted.status == Screening.Status.SUBMITTED
