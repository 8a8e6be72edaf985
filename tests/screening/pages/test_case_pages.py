"""My cases, agency cases, new case, case detail and consent withdrawal pages."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from screening import services
from screening.models import Case, Consent
from tests.factories import AgencyFactory
from tests.pages import follow, page_link

pytestmark = pytest.mark.django_db


def _login_redirect(response, url):
    return response.status_code == 302 and response["Location"].startswith(
        f"/accounts/login/?next={url}"
    )


# --- my cases ------------------------------------------------------------------------------


def test_my_cases_needs_login(client):
    assert _login_redirect(client.get("/"), "/")


def test_my_cases_lists_created_and_assigned_cases_only(
    client_for, officer, colleague, supervisor, outsider, case
):
    assigned = services.case_create(created_by=supervisor, age=40)
    services.case_assign(case=assigned, worker=colleague, by=supervisor)
    not_mine = services.case_create(created_by=supervisor, age=41)
    foreign = services.case_create(created_by=outsider, age=42)

    page = client_for(colleague).get("/").content.decode()

    assert assigned.reference in page
    assert case.reference not in page  # a colleague's case, not assigned to them
    assert not_mine.reference not in page
    assert foreign.reference not in page
    officer_page = client_for(officer).get("/").content.decode()
    assert case.reference in officer_page


def test_my_cases_page_shows_no_identifying_data(client_for, officer):
    services.case_create(created_by=officer, identifying_name="Maria Fictional", age=30)
    page = client_for(officer).get("/").content.decode()
    assert "Maria Fictional" not in page


def _make_cases(user, count):
    for _ in range(count):
        services.case_create(created_by=user, age=30)


@pytest.mark.parametrize("count", [3, 6])
def test_my_cases_runs_a_fixed_number_of_queries(
    client_for, officer, count, django_assert_num_queries
):
    _make_cases(officer, count)
    client = client_for(officer)
    # session, user, supervisor-role check (header), page rows (no COUNT: keyset pages), the
    # access log entry, and the session save every request makes for the idle timeout
    # (savepoint, update, release)
    with django_assert_num_queries(8):
        response = client.get("/")
    assert response.content.decode().count('class="case-card"') == count


def test_my_cases_is_paginated(client_for, officer):
    _make_cases(officer, 27)
    client = client_for(officer)
    first = client.get("/").content.decode()
    second = follow(client, "/", page_link(first, "next"))
    assert first.count('class="case-card"') == 25
    assert second.count('class="case-card"') == 2
    assert page_link(second, "next") is None and page_link(second, "prev")


# --- agency cases --------------------------------------------------------------------------


def test_agency_cases_needs_login(client):
    url = reverse("screening:agency-cases")
    assert _login_redirect(client.get(url), url)


def test_agency_cases_is_for_supervisors_only(client_for, officer):
    assert client_for(officer).get(reverse("screening:agency-cases")).status_code == 403


def test_agency_cases_lists_every_case_of_the_agency_and_no_other(
    client_for, supervisor, officer, outsider, case
):
    foreign = services.case_create(created_by=outsider, age=30)
    page = client_for(supervisor).get(reverse("screening:agency-cases")).content.decode()
    assert case.reference in page
    assert foreign.reference not in page


@pytest.mark.parametrize("count", [3, 6])
def test_agency_cases_runs_a_fixed_number_of_queries(
    client_for, supervisor, officer, count, django_assert_num_queries
):
    _make_cases(officer, count)
    client = client_for(supervisor)
    # session, user, the device of the second sign-in step, roles (read once for the view's
    # check and the header), page rows (no COUNT), the access log entry, session save (3)
    with django_assert_num_queries(9):
        response = client.get(reverse("screening:agency-cases"))
    assert response.content.decode().count('class="case-card"') == count


# --- new case ------------------------------------------------------------------------------


def test_new_case_needs_login(client):
    url = reverse("screening:case-new")
    assert _login_redirect(client.get(url), url)
    assert client.post(url, {"age": "30"}).status_code == 302
    assert not Case.objects.exists()


def test_new_case_is_for_case_workers_only(client_for, agency):
    from tests.factories import UserFactory

    admin = UserFactory(agency=agency, role="agency_admin")
    response = client_for(admin).post(
        reverse("screening:case-new"),
        {
            "age_band": "unknown",
            "gender": "not_stated",
            "exploitation_type": "unknown",
            "safe_to_contact": "unknown",
        },
    )
    assert response.status_code == 403
    assert not Case.objects.exists()


def test_new_case_opens_a_case_and_shows_it(client_for, officer):
    response = client_for(officer).post(
        reverse("screening:case-new"),
        {
            "age": "16",
            "age_band": "unknown",
            "gender": "female",
            "languages": "es, en",
            "exploitation_type": "labour",
            "safe_to_contact": "no",
            "identifying_name": "Ana Fictional",
        },
        follow=True,
    )
    case = Case.objects.get()
    assert response.redirect_chain[-1][0] == f"/cases/{case.reference}/"
    assert case.languages == ["es", "en"]
    assert case.mandatory_report_required
    page = response.content.decode()
    assert "Mandatory report" in page
    assert "Ana Fictional" not in page  # not in the title nor anywhere on the page
    assert f"<title>Case {case.reference} ·" in page


def test_new_case_with_a_bad_age_shows_errors_and_saves_nothing(client_for, officer):
    response = client_for(officer).post(
        reverse("screening:case-new"),
        {
            "age": "16",
            "age_band": "adult",
            "gender": "not_stated",
            "exploitation_type": "unknown",
            "safe_to_contact": "unknown",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page
    assert "The age band does not match the age." in page
    assert 'href="#id_age_band"' in page
    assert not Case.objects.exists()


# --- case detail ---------------------------------------------------------------------------


def test_case_detail_needs_login(client, case):
    url = reverse("screening:case-detail", kwargs={"reference": case.reference})
    assert _login_redirect(client.get(url), url)


def test_case_detail_of_another_agency_is_404(client_for, outsider, case):
    url = reverse("screening:case-detail", kwargs={"reference": case.reference})
    assert client_for(outsider).get(url).status_code == 404


def test_case_detail_of_an_unassigned_colleague_is_404(client_for, colleague, case):
    url = reverse("screening:case-detail", kwargs={"reference": case.reference})
    assert client_for(colleague).get(url).status_code == 404


def test_case_detail_shows_status_consents_and_screenings(
    client_for, officer, case, screening_consent, draft
):
    page = client_for(officer).get(f"/cases/{case.reference}/").content.decode()
    assert "Open" in page
    assert "Withdraw this consent" in page
    assert "Start a screening" in page
    assert "Continue" in page  # the draft


def _case_with_history(case, *, officer, colleague, supervisor, start_screening, count):
    """`count` of each thing the case page lists or names on its timeline: consents (one
    withdrawn), screenings (one submitted, one a draft), notes, tasks, shares; an assignment
    and a transfer waiting for its answer."""
    services.consent_record(
        case=case, by=officer, scope=Consent.Scope.SCREENING, method=Consent.Method.VERBAL
    )
    services.case_assign(case=case, worker=colleague, by=supervisor)
    receiving = AgencyFactory(name="Riverside Support")
    services.consent_record(
        case=case,
        by=officer,
        scope=Consent.Scope.REFERRAL_PROVIDER,
        method=Consent.Method.WRITTEN,
        provider_name=receiving.name,
        valid_until=timezone.now() + datetime.timedelta(days=30),
    )
    services.case_transfer_request(case=case, to_agency=receiving, reason="x", by=supervisor)
    for number in range(count):
        services.case_share(case=case, agency=AgencyFactory(), reason="Joint work", by=supervisor)
        shared = services.consent_record(
            case=case,
            by=officer,
            scope="referral_service_type",
            service_type="shelter",
            method=Consent.Method.WRITTEN,
            valid_until=timezone.now() + datetime.timedelta(days=30),
        )
        services.consent_withdraw(consent=shared, by=supervisor, note="said so")
        services.screening_submit(screening=start_screening(case), by=officer)
        start_screening(case, by=colleague)
        services.case_note_add(case=case, by=officer, kind="other", text=f"Note {number}")
        services.case_task_add(
            case=case,
            by=officer,
            description=f"Call back {number}",
            due_at=timezone.now() + datetime.timedelta(days=1),
        )


@pytest.mark.parametrize("count", [1, 3])
@pytest.mark.parametrize(
    ("who", "queries"),
    [
        # session, user, roles, the case (its access check, once), its screenings, its
        # consents, assignments, tasks, the timeline's notes, contacts, case activity and
        # referral events (its screenings and consents come from the page's lists), the
        # workers a task can go to, the access log entry, session save (3)
        ("officer", 17),
        # the same, plus the device of the second sign-in step, shares, the pending transfer
        # and the agencies of the share form (the workers are read once for the task and the
        # assign forms; no transfer form while a transfer waits for its answer)
        ("supervisor", 21),
    ],
)
def test_the_case_page_runs_a_fixed_number_of_queries(
    client_for,
    officer,
    colleague,
    supervisor,
    case,
    start_screening,
    count,
    who,
    queries,
    django_assert_num_queries,
):
    _case_with_history(
        case,
        officer=officer,
        colleague=colleague,
        supervisor=supervisor,
        start_screening=start_screening,
        count=count,
    )
    client = client_for({"officer": officer, "supervisor": supervisor}[who])
    url = f"/cases/{case.reference}/"
    client.get(url)
    with django_assert_num_queries(queries):
        page = client.get(url).content.decode()
    assert page.count("See result") == count and page.count(">Continue<") == count
    assert page.count("Withdrawn ") == count
    # The timeline's newest entries, from each kind of row the page read.
    assert "Screening submitted: " in page and "Consent withdrawn: " in page
    assert f"Note {count - 1}" in page and f"Call back {count - 1}" in page
    if who == "supervisor":
        assert page.count("read only · since") == count
        assert "A transfer to <strong>Riverside Support</strong> is waiting" in page


def test_shared_agency_sees_the_case_but_cannot_start_a_screening(
    client_for, supervisor, outsider, other_agency, case
):
    services.case_share(case=case, agency=other_agency, reason="Joint work", by=supervisor)
    client = client_for(outsider)
    page = client.get(f"/cases/{case.reference}/").content.decode()
    assert "Start a screening" not in page
    assert client.get(f"/cases/{case.reference}/screenings/new/").status_code == 403


# --- consent withdrawal --------------------------------------------------------------------


def _withdraw_url(case, consent):
    return reverse(
        "screening:consent-withdraw",
        kwargs={"reference": case.reference, "consent_id": consent.pk},
    )


def test_withdraw_needs_login(client, case, screening_consent):
    response = client.post(_withdraw_url(case, screening_consent))
    assert response.status_code == 302
    screening_consent.refresh_from_db()
    assert screening_consent.withdrawn_at is None


def test_withdraw_of_another_agencys_consent_is_404(client_for, outsider, case, screening_consent):
    assert client_for(outsider).post(_withdraw_url(case, screening_consent)).status_code == 404


def test_withdraw_by_a_shared_agency_is_refused(
    client_for, supervisor, outsider, other_agency, case, screening_consent
):
    services.case_share(case=case, agency=other_agency, reason="Joint work", by=supervisor)
    assert client_for(outsider).post(_withdraw_url(case, screening_consent)).status_code == 403
    screening_consent.refresh_from_db()
    assert screening_consent.withdrawn_at is None


def test_withdraw_under_another_case_reference_is_404(client_for, officer, screening_consent):
    other = services.case_create(created_by=officer, age=30)
    assert client_for(officer).post(_withdraw_url(other, screening_consent)).status_code == 404


def test_withdraw_takes_effect_at_once(client_for, officer, case, screening_consent):
    response = client_for(officer).post(
        _withdraw_url(case, screening_consent), {"note": "said so on the phone"}, follow=True
    )
    assert response.status_code == 200
    consent = Consent.objects.get(pk=screening_consent.pk)
    assert consent.withdrawn_at is not None
    assert consent.withdrawal_note == "said so on the phone"
    assert "Consent withdrawn" in response.content.decode()


# --- recording a consent to share from the case page -------------------------------------


def _consent_new_url(case) -> str:
    return f"/cases/{case.reference}/consents/new"


def _share_consent(**overrides) -> dict:
    valid_until = (timezone.localdate() + datetime.timedelta(days=90)).isoformat()
    return {
        "scope": "referral_service_type",
        "service_type": "shelter",
        "method": "written",
        "valid_until": valid_until,
        **overrides,
    }


def test_consent_form_needs_login(client, case):
    assert client.post(_consent_new_url(case), _share_consent()).status_code == 302
    assert not Consent.objects.filter(case=case).exclude(scope="screening").exists()


def test_consent_form_for_another_agencys_case_is_404(client_for, outsider, case):
    assert client_for(outsider).post(_consent_new_url(case), _share_consent()).status_code == 404


def test_a_shared_to_agency_cannot_record_consent(
    client_for, supervisor, outsider, other_agency, case
):
    services.case_share(case=case, agency=other_agency, reason="Joint work", by=supervisor)
    assert client_for(outsider).post(_consent_new_url(case), _share_consent()).status_code == 403
    assert not Consent.objects.filter(case=case, scope="referral_service_type").exists()


def test_the_case_page_offers_the_consent_form_to_who_may_change_it(client_for, officer, case):
    page = client_for(officer).get(f"/cases/{case.reference}/").content.decode()
    assert "Record a consent to share" in page


def test_recording_a_written_time_limited_consent(client_for, officer, case):
    response = client_for(officer).post(_consent_new_url(case), _share_consent(), follow=True)
    assert response.status_code == 200
    consent = Consent.objects.get(case=case, scope="referral_service_type")
    assert consent.service_type == "shelter"
    assert consent.method == "written"
    assert consent.valid_until.date() == timezone.localdate() + datetime.timedelta(days=90)
    assert "Consent recorded" in response.content.decode()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"valid_until": "2000-01-01"}, "from today on"),
        ({"scope": "referral_provider", "service_type": ""}, "Name the provider"),
        ({"method": "sometimes"}, "valid choice"),
    ],
)
def test_bad_consent_input_is_a_form_error_and_saves_nothing(
    client_for, officer, case, overrides, message
):
    response = client_for(officer).post(_consent_new_url(case), _share_consent(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Consent.objects.filter(case=case).exclude(scope="screening").exists()
