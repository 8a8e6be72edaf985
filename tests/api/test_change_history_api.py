"""Writes through the API name the token's owner in the change history: token authentication
happens inside the view, after the middleware that names a web page's signed-in user."""

import pytest

from screening.models import Case, Contact
from tests.api.helpers import client_for

pytestmark = pytest.mark.django_db

CONTACT = {
    "channel": "phone",
    "contact_type": "crisis",
    "immediate_danger": True,
    "summary": "Workers locked in at night (fictional).",
}


def authors(model, pk) -> list[tuple[str, str | None]]:
    history = model.history.filter(id=pk).select_related("history_user")
    return [
        (row.history_type, row.history_user.username if row.history_user else None)
        for row in history.order_by("history_date", "history_id")
    ]


def test_logging_changing_and_finalising_a_contact_each_name_the_token_owner(
    api, advocate, hotline_supervisor
):
    created = api.post("/api/v1/contacts/", CONTACT, format="json")
    assert created.status_code == 201, created.content
    url = f"/api/v1/contacts/{created.json()['id']}/"
    supervisor = client_for(hotline_supervisor)
    changed = supervisor.patch(
        url,
        {"summary": "Now at a fictional depot."},
        format="json",
        headers={"If-Match": created["ETag"]},
    )
    assert changed.status_code == 200, changed.content
    assert api.post(f"{url}finalise").status_code == 200

    assert authors(Contact, created.json()["id"]) == [
        ("+", advocate.username),
        ("~", hotline_supervisor.username),
        ("~", advocate.username),
    ]


def test_a_case_opened_with_a_contact_names_the_token_owner(api, advocate):
    response = api.post(
        "/api/v1/contacts/",
        {**CONTACT, "minor_involved": True, "create_case": True},
        format="json",
    )
    assert response.status_code == 201, response.content
    case = Contact.objects.get(pk=response.json()["id"]).case
    assert authors(Case, case.pk) == [("+", advocate.username)]
