"""After opening a case on the web page, its page shows once, calmly, the possible earlier
records the user may see: their references and what matched, never the values."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from screening import services
from screening.models import Case

pytestmark = pytest.mark.django_db

PHONE = "+44 7700 900123"  # fictional (Ofcom's drama range)
FORM = {
    "age_band": "unknown",
    "gender": "not_stated",
    "exploitation_type": "unknown",
    "safe_to_contact": "unknown",
}


def _open_case(client, **identifying):
    response = client.post(reverse("screening:case-new"), {**FORM, **identifying}, follow=True)
    assert response.status_code == 200, response.content
    return response


def test_the_new_case_page_names_the_earlier_case_and_what_matched(client_for, officer):
    earlier = services.case_create(created_by=officer, identifying_phone=PHONE)
    response = _open_case(client_for(officer), identifying_phone="07700 900123")
    new = Case.objects.exclude(pk=earlier.pk).get()
    assert response.redirect_chain == [(f"/cases/{new.reference}/", 302)]
    page = response.content.decode()
    assert "Possible earlier record: " in page
    assert f'<a href="/cases/{earlier.reference}/">{earlier.reference}</a>' in page
    assert "(same phone number)" in page
    assert "07700 900123" not in page and "7700" not in page


def test_the_notice_is_shown_once(client_for, officer):
    services.case_create(created_by=officer, identifying_phone=PHONE)
    client = client_for(officer)
    response = _open_case(client, identifying_phone=PHONE)
    assert "possible-earlier-records" in response.content.decode()
    again = client.get(response.redirect_chain[-1][0]).content.decode()
    assert "possible-earlier-records" not in again


def test_no_notice_without_a_match(client_for, officer):
    response = _open_case(client_for(officer), identifying_phone=PHONE)
    assert "possible-earlier-records" not in response.content.decode()


def test_a_case_of_another_agency_is_never_mentioned(client_for, officer, outsider):
    services.case_create(created_by=outsider, identifying_phone=PHONE, identifying_name="Ana Lopez")
    client = client_for(officer)
    hidden = _open_case(client, identifying_phone=PHONE, identifying_name="Ana Lopez")
    assert "possible-earlier-records" not in hidden.content.decode()
    assert "screening.possible_earlier_records" not in client.session


def test_a_case_shared_with_the_users_agency_is_mentioned(client_for, officer, outsider, agency):
    theirs = services.case_create(created_by=outsider, identifying_name="Ana Lopez")
    services.case_share(case=theirs, agency=agency, reason="Joint support plan", by=outsider)
    page = _open_case(client_for(officer), identifying_name="LOPEZ Ana").content.decode()
    assert f'<a href="/cases/{theirs.reference}/">{theirs.reference}</a>' in page
    assert "(same name)" in page


def test_the_notice_belongs_to_the_new_case_only(client_for, officer):
    other = services.case_create(created_by=officer, age=30)
    services.case_create(created_by=officer, identifying_phone=PHONE)
    client = client_for(officer)
    client.post(reverse("screening:case-new"), {**FORM, "identifying_phone": PHONE})
    other_page = client.get(reverse("screening:case-detail", args=[other.reference]))
    assert "possible-earlier-records" not in other_page.content.decode()


def test_matching_costs_the_page_one_insert_and_one_query(client_for, officer):
    services.case_create(created_by=officer, identifying_phone=PHONE)
    client = client_for(officer)
    url = reverse("screening:case-new")
    client.post(url, FORM)  # warm: the first request of a session differs
    with CaptureQueriesContext(connection) as without:
        client.post(url, {**FORM, "region": "Northshire"})
    with CaptureQueriesContext(connection) as with_phone:
        client.post(url, {**FORM, "identifying_phone": PHONE})
    assert len(with_phone) == len(without) + 2
