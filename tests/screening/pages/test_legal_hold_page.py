"""The legal hold control on the case page: supervisors of the case's agency put a case on
hold with a reason, or release it. All people are fictional."""

import pytest
from django.test import Client
from django.urls import reverse

from screening import services
from screening.models import Case
from screening.services.legal_hold import case_legal_hold_set
from tests.auth import sign_in

pytestmark = pytest.mark.django_db


def hold_url(case) -> str:
    return reverse("screening:case-legal-hold", kwargs={"reference": case.reference})


def hold(case, supervisor) -> None:
    case_legal_hold_set(case=case, by=supervisor, reason="Evidence in a trial.")


def held(case) -> bool:
    return Case.objects.get(pk=case.pk).on_legal_hold


def test_anonymous_is_sent_to_sign_in_and_nothing_changes(client, case):
    response = client.post(hold_url(case), {"action": "set", "reason": "Keep it."})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not held(case)


def test_another_agency_gets_404(client_for, outsider, case):
    response = client_for(outsider).post(hold_url(case), {"action": "set", "reason": "Keep."})
    assert response.status_code == 404
    assert not held(case)


def test_a_social_worker_on_the_case_gets_403_and_sees_no_control(
    client_for, colleague, supervisor, case
):
    services.case_assign(case=case, worker=colleague, by=supervisor)
    client = client_for(colleague)

    page = client.get(f"/cases/{case.reference}/")
    response = client.post(hold_url(case), {"action": "set", "reason": "Keep it."})

    assert page.status_code == 200
    assert "Put this case on legal hold" not in page.content.decode()
    assert response.status_code == 403
    assert not held(case)


def test_a_worker_cannot_release_a_hold_either(client_for, officer, supervisor, case):
    hold(case, supervisor)
    response = client_for(officer).post(hold_url(case), {"action": "release"})
    assert response.status_code == 403
    assert held(case)


def test_a_supervisor_holds_and_releases_from_the_case_page(client_for, supervisor, case):
    client = client_for(supervisor)
    page = client.get(f"/cases/{case.reference}/").content.decode()
    assert "Put this case on legal hold" in page
    assert f'action="{hold_url(case)}"' in page

    response = client.post(
        hold_url(case), {"action": "set", "reason": "Evidence in a trial."}, follow=True
    )

    assert response.redirect_chain == [(f"/cases/{case.reference}/", 302)]
    shown = response.content.decode()
    assert "Case put on legal hold" in shown
    assert "On legal hold" in shown and "Evidence in a trial." in shown
    assert "Release the legal hold" in shown
    assert held(case)

    response = client.post(hold_url(case), {"action": "release"}, follow=True)
    assert "Legal hold released" in response.content.decode()
    assert not held(case)


def test_an_empty_reason_shows_a_form_error_and_saves_nothing(client_for, supervisor, case):
    response = client_for(supervisor).post(hold_url(case), {"action": "set", "reason": "  "})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Say why the case must be kept." in page
    assert 'href="#id_reason"' in page  # the summary links to the field
    assert page.count("There is a problem") == 1
    assert "Nothing on this page was saved." in page
    assert not held(case)


def test_the_form_needs_its_csrf_token(supervisor, case):
    client = sign_in(Client(enforce_csrf_checks=True), supervisor)
    response = client.post(hold_url(case), {"action": "set", "reason": "Keep it."})
    assert response.status_code == 403
    assert not held(case)


def test_workers_see_that_a_case_is_held_but_not_why(client_for, officer, supervisor, case):
    hold(case, supervisor)
    page = client_for(officer).get(f"/cases/{case.reference}/").content.decode()
    assert "On legal hold" in page
    assert "Evidence in a trial." not in page
    assert "Release the legal hold" not in page
