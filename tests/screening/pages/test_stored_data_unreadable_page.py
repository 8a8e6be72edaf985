"""A page that meets a stored value it cannot decrypt answers a calm 500 page with a reference
for the administrator (table, column, row id; never the value), and overwrites nothing."""

import logging

import pytest
from django.db import connection
from django.urls import reverse

from config.models import AccessLogEntry
from screening import services

pytestmark = pytest.mark.django_db


def stored_note(override_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT note FROM screening_screeningoverride WHERE id = %s", [override_id])
        return cursor.fetchone()[0]


def test_a_tampered_note_shows_the_cannot_be_read_page_and_stays_as_it_was(
    client_for, officer, supervisor, submitted, caplog
):
    override = services.screening_override(
        screening=submitted,
        by=supervisor,
        outcome="screen_negative",
        reason_code="interpretation_concern",
        note="A fictional note about the interpreter.",
    )
    original = stored_note(override.pk)
    at = len(original) - 10  # one character of the ciphertext changed
    changed = original[:at] + ("B" if original[at] == "A" else "A") + original[at + 1 :]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE screening_screeningoverride SET note = %s WHERE id = %s", [changed, override.pk]
        )

    url = reverse("screening:screening-result", kwargs={"screening_id": submitted.pk})
    with caplog.at_level(logging.ERROR):
        response = client_for(officer).get(url)

    assert response.status_code == 500
    page = response.content.decode()
    assert "This record cannot be read right now" in page
    assert "Nothing was overwritten" in page
    assert f"screening_screeningoverride.note row {override.pk}" in page
    assert "<title>Record cannot be read · Case screening</title>" in page
    assert "interpreter." not in page and changed not in page
    assert f"screening_screeningoverride.note row {override.pk}" in caplog.text
    assert "A fictional note" not in caplog.text and changed not in caplog.text
    assert stored_note(override.pk) == changed  # left exactly as it was
    entry = AccessLogEntry.objects.get(route="screening:screening-result")
    assert (entry.status_code, entry.outcome, entry.user) == (500, "error", officer)
    assert entry.case_id == submitted.case_id


def test_pages_that_read_nothing_unreadable_are_unaffected(
    client_for, officer, supervisor, submitted
):
    services.screening_override(
        screening=submitted,
        by=supervisor,
        outcome="screen_negative",
        reason_code="interpretation_concern",
        note="A fictional note about the interpreter.",
    )
    url = reverse("screening:screening-result", kwargs={"screening_id": submitted.pk})
    response = client_for(officer).get(url)
    assert response.status_code == 200
    assert "A fictional note about the interpreter." in response.content.decode()
