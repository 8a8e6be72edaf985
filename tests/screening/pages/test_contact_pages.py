"""Hotline contact pages (issue 14 point 6): list the agency's contacts, log one through the
same service as the API, open it, change it while a draft (link a case), finalise it. All
callers and staff are fictional."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from screening import services
from screening.models import Contact
from screening.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FORM = {
    "channel": "phone",
    "contact_type": "tip",
    "caller_type": "community_member",
    "exploitation_type": "labour",
    "summary": "Workers locked in at night (fictional).",
    "caller_name": "Fictional Caller",
}


@pytest.fixture
def advocate(agency):
    return UserFactory(agency=agency, role=Role.HOTLINE_STAFF)


def logged(by, **values) -> Contact:
    return services.contact_create(
        created_by=by, **{"channel": "phone", "contact_type": "tip", **values}
    )


def test_anonymous_is_sent_to_sign_in(client):
    for url in ("/contacts/", "/contacts/new/", "/contacts/1/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_frontline_officer_may_not_use_the_contact_pages(client_for, officer, advocate):
    contact = logged(advocate)
    client = client_for(officer)
    for url in ("/contacts/", "/contacts/new/", f"/contacts/{contact.pk}/"):
        assert client.get(url).status_code == 403


def test_another_agencys_contact_is_404(client_for, advocate, other_agency):
    theirs = logged(UserFactory(agency=other_agency, role=Role.HOTLINE_STAFF))
    client = client_for(advocate)
    assert client.get(f"/contacts/{theirs.pk}/").status_code == 404
    response = client.post(reverse("screening:contact-finalise", args=[theirs.pk]))
    assert response.status_code == 404
    assert Contact.objects.get(pk=theirs.pk).is_draft


def test_log_a_contact_open_it_and_finalise_it(client_for, advocate):
    client = client_for(advocate)
    response = client.post("/contacts/new/", {**FORM, "immediate_danger": "on"}, follow=True)
    contact = Contact.objects.get()
    assert response.redirect_chain[-1][0] == f"/contacts/{contact.pk}/"
    page = response.content.decode()
    assert "Contact logged as a draft" in page and "Danger now" in page
    assert contact.summary == FORM["summary"] and contact.caller_name == "Fictional Caller"
    assert "Fictional Caller" not in response.redirect_chain[-1][0]

    listed = client.get("/contacts/?status=draft").content.decode()
    assert f'href="/contacts/{contact.pk}/"' in listed
    assert "Fictional Caller" not in listed

    client.post(
        reverse("screening:contact-finalise", args=[contact.pk]), {"version": contact.version}
    )
    contact.refresh_from_db()
    assert not contact.is_draft
    final = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "Finalise this contact" not in final and "Save changes" not in final


def test_a_draft_is_changed_and_linked_to_a_case(client_for, advocate):
    case = services.case_create(created_by=advocate)
    contact = logged(advocate)
    client = client_for(advocate)
    response = client.post(
        f"/contacts/{contact.pk}/",
        {**FORM, "version": contact.version, "case": case.reference.lower()},
        follow=True,
    )
    assert "Contact saved." in response.content.decode()
    contact.refresh_from_db()
    assert contact.case_id == case.pk and contact.contact_type == "tip"
    assert (
        f'href="/cases/{case.reference}/"'
        in client.get(f"/contacts/{contact.pk}/").content.decode()
    )


def test_a_case_one_cannot_see_is_a_field_error_and_nothing_is_saved(
    client_for, advocate, outsider
):
    theirs = services.case_create(created_by=outsider)
    contact = logged(advocate)
    response = client_for(advocate).post(
        f"/contacts/{contact.pk}/", {**FORM, "version": contact.version, "case": theirs.reference}
    )
    assert response.status_code == 400
    assert 'href="#id_case"' in response.content.decode()
    contact.refresh_from_db()
    assert contact.case_id is None and contact.version == 1


def test_a_stale_version_is_refused(client_for, advocate):
    contact = logged(advocate)
    response = client_for(advocate).post(
        f"/contacts/{contact.pk}/", {**FORM, "version": contact.version + 5}
    )
    assert response.status_code == 400
    assert "Someone changed this contact" in response.content.decode()


def test_a_new_contact_can_open_a_case(client_for, advocate):
    client_for(advocate).post("/contacts/new/", {**FORM, "create_case": "on"})
    contact = Contact.objects.get()
    assert contact.case is not None and contact.case.agency_id == advocate.agency_id


def test_missing_answers_show_the_summary_and_save_nothing(client_for, advocate):
    response = client_for(advocate).post("/contacts/new/", {"channel": "", "contact_type": ""})
    assert response.status_code == 400
    page = response.content.decode()
    assert page.count("There is a problem") == 1 and 'href="#id_channel"' in page
    assert not Contact.objects.exists()


def test_the_list_costs_the_same_for_2_and_6_contacts(client_for, advocate):
    client = client_for(advocate)
    for _ in range(2):
        logged(advocate)
    client.get("/contacts/")
    with CaptureQueriesContext(connection) as few:
        client.get("/contacts/")
    for _ in range(4):
        logged(advocate, case_reference=services.case_create(created_by=advocate).reference)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/contacts/").content.decode().count("case-card") == 6
    assert len(many) == len(few)
