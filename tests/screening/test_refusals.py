"""Refused attempts count: a refused request for a case (or its screening, consent, contact
or referral) that exists is logged against it, still answering the 404 of a missing one; the
case's access history shows it to supervisors; and a person refused on many cases in a short
time is flagged to the supervisors of their own agency. All people are fictional."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config import errors
from config.models import AccessLogEntry
from screening import services
from screening.access import refusal_flag_list
from screening.models import Consent
from screening.roles import Role
from tests.auth import sign_in
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db

FLAGS = reverse("screening:refusal-flags")


def refused(user, case, *, minutes_ago: float, outcome: str = "not_found") -> AccessLogEntry:
    """A refusal as the middleware writes it."""
    return AccessLogEntry.objects.create(
        at=timezone.now() - timedelta(minutes=minutes_ago),
        user=user,
        agency_id=user.agency_id,
        method="GET",
        route="screening:case-detail",
        object_type="case",
        object_ref=case.reference,
        case_id=case.pk,
        status_code=404 if outcome == "not_found" else 403,
        outcome=outcome,
    )


@pytest.fixture
def client_for():
    return lambda user: sign_in(Client(), user)


@pytest.fixture
def other_cases(outsider):
    return [services.case_create(created_by=outsider) for _ in range(6)]


# --- logged against the object -------------------------------------------------------------


def test_a_refused_case_page_is_in_the_cases_access_history(
    client_for, officer, outsider, supervisor, case
):
    response = client_for(outsider).get(f"/cases/{case.reference}/")
    missing = client_for(outsider).get("/cases/C-NONE-XIST/")
    assert response.status_code == missing.status_code == 404

    history = client_for(supervisor).get(
        reverse("screening:case-access-history", kwargs={"reference": case.reference})
    )
    (row,) = [r for r in history.content.decode().split("<tr>") if outsider.get_full_name() in r]
    assert "Case page · Read" in row and "Not found or not visible" in row


def test_a_refused_screening_consent_or_contact_names_it_and_its_case(
    client_for, outsider, case, draft, supervisor
):
    from rest_framework.test import APIClient

    client = client_for(outsider)
    assert client.get(f"/screenings/{draft.pk}/review/").status_code == 404
    consent = Consent.objects.filter(case=case).first()
    assert client.post(f"/cases/{case.reference}/consents/{consent.pk}/withdraw").status_code == 404
    entries = AccessLogEntry.objects.filter(user=outsider).order_by("pk")
    assert [(e.object_type, e.object_ref, e.case_id) for e in entries] == [
        ("screening", str(draft.pk), case.pk),
        ("consent", str(consent.pk), case.pk),
    ]
    assert all(e.outcome == "not_found" for e in entries)

    hotline = AgencyFactory()
    contact = services.contact_create(
        created_by=supervisor, channel="phone", contact_type="tip", case_reference=case.reference
    )
    api = APIClient()
    prying = UserFactory(agency=hotline, role=Role.HOTLINE_STAFF)
    api.force_authenticate(prying)
    assert api.get(f"/api/v1/contacts/{contact.pk}/").status_code == 404
    entry = AccessLogEntry.objects.get(user=prying)
    assert (entry.object_type, entry.object_ref, entry.case_id) == (
        "contact",
        str(contact.pk),
        case.pk,
    )


@pytest.mark.parametrize("action", ["view", "answer"])
def test_a_refused_referral_names_it_and_its_case(outsider, case, draft, action):
    from config.access_log import access_log_draft
    from referrals.errors import ReferralNotFound
    from referrals.models import Referral, ServiceProvider
    from referrals.permissions import referral_access

    provider = ServiceProvider.objects.create(
        slug="fictional-clinic",
        name="Fictional Clinic",
        channel="email",
        email="intake@clinic.invalid",
    )
    referral = Referral.objects.create(
        case=case,
        case_agency_id=case.agency_id,
        screening=draft,
        provider=provider,
        service_type="medical",
        mandatory=True,
        due_at=timezone.now() + timedelta(days=1),
    )
    user = (
        outsider if action == "view" else UserFactory(agency=AgencyFactory(), role="provider_staff")
    )
    with access_log_draft() as entry, pytest.raises(ReferralNotFound):
        referral_access(user=user, referral_id=referral.pk, action=action)
    assert (entry.refused_object_type, entry.refused_object_ref, entry.refused_case_id) == (
        "referral",
        str(referral.pk),
        case.pk,
    )


def test_a_refusal_that_ends_allowed_names_nothing_refused(officer, case):
    """Noting a refusal never marks an allowed request: services that try a case and carry
    on (e.g. linking) do not pin someone else's case on the entry."""
    from config.access_log import AccessLogDraft, access_log_object

    draft = AccessLogDraft(refused_object_type="case", refused_object_ref="C-X", refused_case_id=1)
    assert access_log_object(draft, outcome="allowed") == ("", "", None)
    assert access_log_object(draft, outcome="not_found") == ("case", "C-X", 1)


# --- flagged to the person's own supervisors --------------------------------------------------


def test_five_cases_refused_within_ten_minutes_flag_the_person(
    supervisor, officer, other_cases, settings
):
    settings.REFUSAL_FLAG_CASES, settings.REFUSAL_FLAG_MINUTES = 5, 10
    for index, case in enumerate(other_cases[:5]):
        refused(officer, case, minutes_ago=30 - 2 * index)  # 30, 28, ... 22 minutes ago
    refused(officer, other_cases[0], minutes_ago=21)  # the same case again counts once

    (flag,) = refusal_flag_list(user=supervisor)

    assert flag.user == officer
    assert flag.window_cases == 5
    assert (flag.refusals, flag.cases_refused) == (6, 5)
    assert abs(flag.window_end - flag.window_start - timedelta(minutes=8)) < timedelta(seconds=1)


def test_fewer_cases_or_the_same_cases_spread_out_flag_nobody(
    supervisor, officer, colleague, other_cases, settings
):
    settings.REFUSAL_FLAG_CASES, settings.REFUSAL_FLAG_MINUTES = 5, 10
    for case in other_cases[:4]:
        for minutes_ago in (1, 2, 3):
            refused(officer, case, minutes_ago=minutes_ago)  # 4 cases, however often
    for index, case in enumerate(other_cases[:5]):
        refused(colleague, case, minutes_ago=60 - 11 * index)  # 5 cases over 44 minutes
    assert refusal_flag_list(user=supervisor) == []


def test_the_threshold_and_the_look_back_are_settings(supervisor, officer, other_cases, settings):
    settings.REFUSAL_FLAG_CASES, settings.REFUSAL_FLAG_MINUTES = 3, 10
    settings.REFUSAL_FLAG_LOOKBACK_DAYS = 1
    for case in other_cases[:3]:
        refused(officer, case, minutes_ago=2 * 24 * 60)
    assert refusal_flag_list(user=supervisor) == []
    for case in other_cases[:3]:
        refused(officer, case, minutes_ago=1, outcome="denied")
    assert [flag.user for flag in refusal_flag_list(user=supervisor)] == [officer]


def test_only_the_persons_own_agencys_supervisors_see_the_flag(
    supervisor, outsider, officer, other_cases, settings
):
    settings.REFUSAL_FLAG_CASES = 5
    for case in other_cases[:5]:
        refused(officer, case, minutes_ago=1)
    assert refusal_flag_list(user=outsider) == []
    with pytest.raises(errors.ActionNotAllowed):
        refusal_flag_list(user=officer)


def test_browsing_other_agencys_cases_flags_the_person_end_to_end(
    supervisor, officer, other_cases, settings
):
    settings.REFUSAL_FLAG_CASES = 5
    client = sign_in(Client(), officer)
    for case in other_cases[:5]:
        assert client.get(f"/cases/{case.reference}/").status_code == 404
    assert client.get("/cases/C-NONE-XIST/").status_code == 404  # no case: nothing to count

    (flag,) = refusal_flag_list(user=supervisor)
    assert (flag.user, flag.window_cases, flag.refusals) == (officer, 5, 5)


# --- the page -------------------------------------------------------------------------------


def test_the_page_needs_login(client):
    assert client.get(FLAGS).status_code == 302


def test_staff_who_are_not_supervisors_get_403(client_for, officer):
    assert client_for(officer).get(FLAGS).status_code == 403


def test_a_supervisor_sees_who_was_refused_often_and_when(
    client_for, supervisor, officer, colleague, other_cases, settings
):
    settings.REFUSAL_FLAG_CASES, settings.REFUSAL_FLAG_MINUTES = 5, 10
    for case in other_cases[:5]:
        refused(officer, case, minutes_ago=3)
    refused(colleague, other_cases[0], minutes_ago=3)

    page = client_for(supervisor).get(FLAGS).content.decode()

    assert officer.get_full_name() in page and colleague.get_full_name() not in page
    assert "5 cases" in page and "5 refusals on 5 cases" in page
    assert all(case.reference not in page for case in other_cases)  # never other agencies' cases


@pytest.mark.parametrize("count", [2, 4])
def test_the_page_runs_a_fixed_number_of_queries(
    client_for, supervisor, agency, other_cases, settings, count, django_assert_num_queries
):
    settings.REFUSAL_FLAG_CASES = 5
    for _ in range(count):
        person = UserFactory(agency=agency, role=Role.SOCIAL_WORKER)
        for case in other_cases[:5]:
            refused(person, case, minutes_ago=1)
    client = client_for(supervisor)
    client.get(FLAGS)
    # session, user, the second sign-in step's device, the refusals, the people flagged, the
    # header's roles, the session save (savepoint, update, release) and the access log entry
    with django_assert_num_queries(10):
        response = client.get(FLAGS)
    assert response.content.decode().count("refusals on 5 cases") == count
