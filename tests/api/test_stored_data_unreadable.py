"""A stored value that does not decrypt (moved from another row, tampered, its key gone): the
API answers a problem+json 500 naming table, column and row id, never the value, records the
request in the access log, and overwrites nothing."""

import json
import logging

import pytest
from django.db import connection
from django.test import RequestFactory

from config.crypto import DecryptionError
from config.middleware import StoredDataUnreadableMiddleware
from config.models import AccessLogEntry
from screening import services
from screening.models import Contact
from tests.api.helpers import assert_problem

pytestmark = pytest.mark.django_db

UNREADABLE = "urn:ht-screening:problem:stored-data-unreadable"


def stored(table: str, column: str, row_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [row_id])  # noqa: S608
        return cursor.fetchone()[0]


def store(table: str, column: str, row_id: int, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, row_id])  # noqa: S608


def tampered(value: str) -> str:
    """The stored text with one character of its ciphertext changed."""
    at = len(value) - 10
    return value[:at] + ("B" if value[at] == "A" else "A") + value[at + 1 :]


def test_a_name_copied_from_another_case_does_not_decrypt_and_is_left_as_it_is(
    api, advocate, case_of_hotline, caplog
):
    other = services.case_create(created_by=advocate, identifying_name="Other Fictional Person")
    mine = stored("screening_case", "identifying_name", case_of_hotline.pk)
    theirs = stored("screening_case", "identifying_name", other.pk)
    store("screening_case", "identifying_name", case_of_hotline.pk, theirs)  # a copied value

    with caplog.at_level(logging.ERROR):
        response = api.get(f"/api/v1/cases/{case_of_hotline.reference}/")

    body = assert_problem(response, 500)
    assert body["type"] == UNREADABLE and body["title"] == "Stored data cannot be read."
    assert f"screening_case.identifying_name row {case_of_hotline.pk}" in body["detail"]
    assert "Fictional Person" not in response.content.decode()
    assert theirs not in response.content.decode()
    # Logged by where it is, never what it holds.
    assert f"screening_case.identifying_name row {case_of_hotline.pk}" in caplog.text
    assert "Fictional Person" not in caplog.text and theirs not in caplog.text
    # Nothing was overwritten, and the request is in the access log.
    assert stored("screening_case", "identifying_name", case_of_hotline.pk) == theirs
    assert stored("screening_case", "identifying_name", other.pk) == theirs != mine
    entry = AccessLogEntry.objects.get(route="api-case-detail")
    assert (entry.status_code, entry.outcome, entry.user) == (500, "error", advocate)
    assert entry.case_id == case_of_hotline.pk


def test_a_change_that_meets_a_tampered_value_saves_nothing_and_says_so(api, advocate):
    logged = api.post(
        "/api/v1/contacts/",
        {
            "channel": "phone",
            "contact_type": "tip",
            "situation_location": "A fictional car wash",
            "summary": "A fictional tip.",
        },
        format="json",
    )
    contact = Contact.objects.get(pk=logged.json()["id"])
    location = tampered(stored("screening_contact", "situation_location", contact.pk))
    store("screening_contact", "situation_location", contact.pk, location)
    summary = stored("screening_contact", "summary", contact.pk)

    response = api.patch(
        f"/api/v1/contacts/{contact.pk}/",
        {"summary": "A changed fictional tip."},
        format="json",
        headers={"If-Match": '"v1"'},
    )

    body = assert_problem(response, 500)
    assert body["type"] == UNREADABLE
    assert f"screening_contact.situation_location row {contact.pk}" in body["detail"]
    assert "Read the object again" in body["detail"]
    assert "fictional" not in response.content.decode().lower()
    assert stored("screening_contact", "situation_location", contact.pk) == location
    assert stored("screening_contact", "summary", contact.pk) == summary
    contact = Contact.objects.get(pk=contact.pk)  # read lazily: the location is never opened
    assert contact.version == 1 and contact.summary == "A fictional tip."


def test_an_api_path_outside_the_api_views_gets_the_same_problem():
    middleware = StoredDataUnreadableMiddleware(lambda request: None)
    error = DecryptionError(table="t", column="c", row_id=7, reason="authentication failed")
    response = middleware.process_exception(RequestFactory().get("/api/v1/anything/"), error)
    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    assert "t.c row 7" in json.loads(response.content)["detail"]
    other = middleware.process_exception(RequestFactory().get("/api/v1/x/"), ValueError("no"))
    assert other is None  # other errors go on to Django's handling
