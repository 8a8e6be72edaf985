"""The emergency access pages: asking for it (case-work staff), and the supervisors' review.
Every read under emergency access shows in the case's access history as such. All people
are fictional."""

import pytest
from django.urls import reverse

from config.models import AccessLogEntry
from screening import services
from screening.models import BreakGlassGrant
from screening.roles import Role
from screening.services.break_glass import break_glass_request, break_glass_review
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ASK = reverse("screening:break-glass")
REVIEWS = reverse("screening:break-glass-reviews")
REASON = "Fictional: the person is at the clinic now and says they are in danger."


@pytest.fixture
def helper(other_agency):
    return UserFactory(agency=other_agency, role=Role.SOCIAL_WORKER)


def review_url(grant) -> str:
    return reverse("screening:break-glass-review", kwargs={"grant_id": grant.pk})


# --- asking -------------------------------------------------------------------------------


def test_asking_needs_login(client):
    response = client.get(ASK)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", [Role.PROVIDER_STAFF, Role.AGENCY_ADMIN])
def test_provider_staff_and_administrators_get_403(client_for, other_agency, case, role):
    client = client_for(UserFactory(agency=other_agency, role=role))
    assert client.get(ASK).status_code == 403
    response = client.post(ASK, {"reference": case.reference, "reason": REASON})
    assert response.status_code == 403
    assert not BreakGlassGrant.objects.exists()


def test_asking_opens_the_case_read_only_and_every_read_is_logged_as_emergency_access(
    client_for, helper, supervisor, case
):
    client = client_for(helper)
    assert "Ask for emergency access" in client.get("/").content.decode()
    assert client.get(ASK).status_code == 200

    response = client.post(ASK, {"reference": case.reference, "reason": REASON})

    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.reference}/"
    page = client.get(response["Location"]).content.decode()
    assert "Emergency access until" in page and "emergency access</strong>" in page
    assert "Start a screening" not in page  # read only
    asked, read = AccessLogEntry.objects.filter(user=helper, case=case).order_by("pk")
    assert (asked.route, asked.case_id, asked.outcome) == (
        "screening:break-glass",
        case.pk,
        AccessLogEntry.Outcome.BREAK_GLASS,
    )
    assert (read.route, read.case_id, read.outcome) == (
        "screening:case-detail",
        case.pk,
        AccessLogEntry.Outcome.BREAK_GLASS,
    )
    history = client_for(supervisor).get(
        reverse("screening:case-access-history", kwargs={"reference": case.reference})
    )
    rows = [row for row in history.content.decode().split("<tr ") if helper.get_full_name() in row]
    assert len(rows) == 2
    assert all("Allowed (emergency access)" in row for row in rows)
    assert "Emergency access (break-glass) asked" in rows[1]


def test_a_reference_that_matches_no_case_is_said_plainly_and_counts_against_the_limit(
    client_for, helper, case, settings
):
    settings.BREAK_GLASS_MAX_PER_DAY = 1
    client = client_for(helper)
    missing = client.post(ASK, {"reference": "C-NONE-XIST", "reason": REASON})
    assert missing.status_code == 404
    assert "No case has this reference." in missing.content.decode()

    limited = client.post(ASK, {"reference": case.reference, "reason": REASON})
    assert limited.status_code == 429
    assert "as often as a day allows" in limited.content.decode()
    assert not BreakGlassGrant.objects.exists()


def test_a_missing_reason_is_a_form_error_and_nothing_is_saved(client_for, helper, case):
    response = client_for(helper).post(ASK, {"reference": case.reference, "reason": ""})
    assert response.status_code == 400
    assert "Say why you need to see this case now." in response.content.decode()
    assert not BreakGlassGrant.objects.exists()


def test_someone_who_sees_the_case_already_is_sent_to_it_without_a_grant(client_for, officer, case):
    response = client_for(officer).post(ASK, {"reference": case.reference, "reason": REASON})
    assert response.status_code == 302
    assert not BreakGlassGrant.objects.exists()


# --- reviewing ------------------------------------------------------------------------------


@pytest.fixture
def grant(helper, case):
    return break_glass_request(user=helper, case_reference=case.reference, reason=REASON)


def test_the_review_list_needs_login(client):
    assert client.get(REVIEWS).status_code == 302


def test_staff_who_are_not_supervisors_get_403(client_for, officer, grant):
    assert client_for(officer).get(REVIEWS).status_code == 403


def test_another_agencys_supervisor_neither_sees_nor_reviews_it(client_for, outsider, grant):
    client = client_for(outsider)
    assert REASON not in client.get(REVIEWS).content.decode()
    response = client.post(review_url(grant), {f"grant-{grant.pk}-outcome": "justified"})
    assert response.status_code == 404
    assert not BreakGlassGrant.objects.get(pk=grant.pk).is_reviewed


def test_a_supervisor_reads_the_reason_and_records_the_review(
    client_for, supervisor, helper, grant
):
    client = client_for(supervisor)
    listing = client.get(REVIEWS).content.decode()
    assert REASON in listing and helper.get_full_name() in listing

    response = client.post(
        review_url(grant),
        {f"grant-{grant.pk}-outcome": "not_justified", f"grant-{grant.pk}-note": "Fictional."},
    )

    assert response.status_code == 302
    grant.refresh_from_db()
    assert (grant.review_outcome, grant.reviewed_by, grant.review_note) == (
        "not_justified",
        supervisor,
        "Fictional.",
    )
    after = client.get(REVIEWS).content.decode()
    assert "Nothing to review." in after and "Not justified" in after


def test_not_justified_without_a_note_is_shown_again_with_the_error(client_for, supervisor, grant):
    response = client_for(supervisor).post(
        review_url(grant), {f"grant-{grant.pk}-outcome": "not_justified"}
    )
    assert response.status_code == 400
    assert "Say why it was not justified." in response.content.decode()
    assert not BreakGlassGrant.objects.get(pk=grant.pk).is_reviewed


@pytest.mark.parametrize("count", [2, 4])
def test_the_review_list_runs_a_fixed_number_of_queries(
    client_for, supervisor, officer, other_agency, count, django_assert_num_queries
):
    for _ in range(count):
        case = services.case_create(created_by=officer)
        asker = UserFactory(agency=other_agency, role=Role.HOTLINE_STAFF)
        break_glass_request(user=asker, case_reference=case.reference, reason=REASON)
        reviewed = break_glass_request(
            user=UserFactory(agency=other_agency), case_reference=case.reference, reason=REASON
        )
        break_glass_review(grant_id=reviewed.pk, by=supervisor, outcome="justified")
    client = client_for(supervisor)
    client.get(REVIEWS)
    # session, user, the second sign-in step's device, the header's roles, count, the page
    # of grants (with cases and people), the reviewed ones, the session save (savepoint,
    # update, release) and the access log entry
    with django_assert_num_queries(11):
        response = client.get(REVIEWS)
    assert response.content.decode().count("Record the review") == count
