"""The case page's forms that choose a worker or an agency render their choices from one read
of the list (`choices_read_once`), exactly as Django's own iterator renders them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from screening import selectors
from screening.casework_forms import AssignForm, ShareForm, TaskForm, TransferForm
from screening.views.casework import choices_read_once
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db


def _html(form, name: str) -> str:
    return str(form[name])


def test_worker_and_agency_choices_render_as_djangos_from_one_read_each(
    agency, officer, colleague, supervisor
):
    UserFactory(agency=agency, role="social_worker", first_name="", last_name="")
    for name in ("Riverside Support", "Harbour Outreach"):
        AgencyFactory(name=name)
    workers = selectors.agency_worker_list(agency_id=agency.pk)
    agencies = selectors.agency_other_list(agency_id=agency.pk)
    plain = {
        "assignee": _html(TaskForm(workers=workers), "assignee"),
        "worker": _html(AssignForm(workers=workers), "worker"),
        "share": _html(ShareForm(agencies=agencies), "agency"),
        "transfer": _html(TransferForm(agencies=agencies), "agency"),
    }

    task, assign = TaskForm(workers=workers), AssignForm(workers=workers)
    share, transfer = ShareForm(agencies=agencies), TransferForm(agencies=agencies)
    with CaptureQueriesContext(connection) as reads:
        choices_read_once(workers, [task.fields["assignee"], assign.fields["worker"]])
        choices_read_once(agencies, [share.fields["agency"], transfer.fields["agency"]])
        shown = {
            "assignee": _html(task, "assignee"),
            "worker": _html(assign, "worker"),
            "share": _html(share, "agency"),
            "transfer": _html(transfer, "agency"),
        }

    assert shown == plain
    assert len(reads) == 2
    assert "Riverside Support" in shown["share"] and ">Me<" in shown["assignee"]
    assert f'value="{colleague.pk}"' in shown["worker"]


def test_a_form_given_the_read_choices_still_validates_against_its_queryset(agency, officer):
    workers = selectors.agency_worker_list(agency_id=agency.pk)
    form = AssignForm({"assign-worker": str(officer.pk)}, workers=workers)
    choices_read_once(workers, [form.fields["worker"]])
    assert form.is_valid() and form.cleaned_data["worker"] == officer
