"""Emergency (break-glass) access: who may ask, what they get and for how long, the daily
limit, and the supervisors' review afterwards (screening/services/break_glass.py). All
people are fictional."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from config import errors
from config.models import AccessLogEntry
from screening import services
from screening.access import break_glass_review_list
from screening.models import BreakGlassGrant, Case
from screening.permissions import CaseAction, case_access
from screening.roles import Role
from screening.services.break_glass import (
    BreakGlassLimitReached,
    break_glass_request,
    break_glass_review,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REASON = "Fictional: the person is at the station now and says they are in danger."


@pytest.fixture
def helper(other_agency):
    """A frontline officer of another agency who holds the case's reference."""
    return UserFactory(agency=other_agency, role=Role.FRONTLINE_OFFICER)


def sees(user, case) -> bool:
    return Case.objects.visible_to(user).filter(pk=case.pk).exists()


def test_asking_gives_view_only_access_for_the_configured_hours(helper, case, settings):
    settings.BREAK_GLASS_HOURS = 2
    assert not sees(helper, case)

    grant = break_glass_request(user=helper, case_reference=case.reference, reason=REASON)

    assert grant.expires_at - grant.granted_at == timedelta(hours=2)
    assert sees(helper, case)
    assert case_access(user=helper, case_reference_or_id=case.reference, action="view") == case
    for action in (CaseAction.CHANGE, CaseAction.SHARE, CaseAction.SEE_ACCESS):
        with pytest.raises(errors.ActionNotAllowed):
            case_access(user=helper, case_reference_or_id=case.reference, action=action)


def test_the_reference_may_be_typed_in_lower_case_with_spaces(helper, case):
    grant = break_glass_request(
        user=helper, case_reference=f"  {case.reference.lower()} ", reason=REASON
    )
    assert grant.case == case


def test_access_ends_by_itself_when_the_grant_expires(helper, case, settings):
    asked = timezone.now() - timedelta(hours=settings.BREAK_GLASS_HOURS, seconds=1)
    break_glass_request(user=helper, case_reference=case.reference, reason=REASON, now=asked)
    assert not sees(helper, case)
    with pytest.raises(errors.CaseNotFound):
        case_access(user=helper, case_reference_or_id=case.reference, action="view")


def test_the_reason_is_required_and_sealed(helper, case):
    with pytest.raises(errors.ValidationError) as refused:
        break_glass_request(user=helper, case_reference=case.reference, reason="   ")
    assert refused.value.field_errors == {"reason": ["Say why you need to see this case now."]}
    assert not BreakGlassGrant.objects.exists()

    grant = break_glass_request(user=helper, case_reference=case.reference, reason=REASON)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM screening_breakglassgrant WHERE id = %s", [grant.pk])
        (stored,) = cursor.fetchone()
    assert "danger" not in stored
    assert BreakGlassGrant.objects.get(pk=grant.pk).reason == REASON


@pytest.mark.parametrize("role", [Role.PROVIDER_STAFF, Role.AGENCY_ADMIN])
def test_provider_staff_and_administrators_may_not_ask(other_agency, case, role):
    user = UserFactory(agency=other_agency, role=role)
    with pytest.raises(errors.ActionNotAllowed):
        break_glass_request(user=user, case_reference=case.reference, reason=REASON)
    assert not BreakGlassGrant.objects.exists()


def test_an_inactive_account_may_not_ask(helper, case):
    helper.is_active = False
    with pytest.raises(errors.ActionNotAllowed):
        break_glass_request(user=helper, case_reference=case.reference, reason=REASON)


def test_a_reference_that_matches_no_case_grants_nothing(helper):
    with pytest.raises(errors.CaseNotFound):
        break_glass_request(user=helper, case_reference="C-NONE-XIST", reason=REASON)
    assert not BreakGlassGrant.objects.exists()


def test_someone_who_sees_the_case_already_gets_no_grant(supervisor, case):
    assert (
        break_glass_request(user=supervisor, case_reference=case.reference, reason=REASON) is None
    )
    assert not BreakGlassGrant.objects.exists()


def test_the_daily_limit_counts_grants_and_unmatched_references(helper, officer, settings, agency):
    settings.BREAK_GLASS_MAX_PER_DAY = 3
    cases = [services.case_create(created_by=officer) for _ in range(4)]
    yesterday = timezone.now() - timedelta(hours=25)
    break_glass_request(
        user=helper, case_reference=cases[0].reference, reason=REASON, now=yesterday
    )
    break_glass_request(user=helper, case_reference=cases[1].reference, reason=REASON)
    # A request whose reference matched no case, as the request page records it.
    AccessLogEntry.objects.create(
        user=helper,
        method="POST",
        route="screening:break-glass",
        status_code=404,
        outcome=AccessLogEntry.Outcome.NOT_FOUND,
    )
    break_glass_request(user=helper, case_reference=cases[2].reference, reason=REASON)

    # The fourth in 24 hours is refused whatever the reference: the answer says nothing
    # about whether a case has it.
    for reference in (cases[3].reference, "C-NONE-XIST"):
        with pytest.raises(BreakGlassLimitReached):
            break_glass_request(user=helper, case_reference=reference, reason=REASON)
    assert not sees(helper, cases[3])
    assert BreakGlassGrant.objects.filter(user=helper).count() == 3


# --- the review ----------------------------------------------------------------------------


@pytest.fixture
def grant(helper, case):
    return break_glass_request(user=helper, case_reference=case.reference, reason=REASON)


def test_a_supervisor_of_the_case_agency_reviews_it_as_justified(supervisor, grant):
    assert list(break_glass_review_list(user=supervisor)) == [grant]

    reviewed = break_glass_review(grant_id=grant.pk, by=supervisor, outcome="justified")

    assert (reviewed.review_outcome, reviewed.reviewed_by) == ("justified", supervisor)
    assert reviewed.expires_at == grant.expires_at  # justified access runs its course
    assert list(break_glass_review_list(user=supervisor)) == []
    assert list(break_glass_review_list(user=supervisor, reviewed=True)) == [reviewed]


def test_not_justified_needs_a_note_and_ends_access_at_once(supervisor, grant, helper, case):
    with pytest.raises(errors.ValidationError) as refused:
        break_glass_review(grant_id=grant.pk, by=supervisor, outcome="not_justified")
    assert refused.value.field_errors == {"note": ["Say why it was not justified."]}
    assert not BreakGlassGrant.objects.get(pk=grant.pk).is_reviewed

    break_glass_review(
        grant_id=grant.pk, by=supervisor, outcome="not_justified", note="Fictional: no emergency."
    )
    assert not sees(helper, case)
    assert BreakGlassGrant.objects.get(pk=grant.pk).review_note == "Fictional: no emergency."


def test_a_grant_is_reviewed_once(supervisor, grant):
    break_glass_review(grant_id=grant.pk, by=supervisor, outcome="justified")
    with pytest.raises(errors.InvalidState):
        break_glass_review(grant_id=grant.pk, by=supervisor, outcome="not_justified", note="x")


def test_an_unknown_outcome_is_refused(supervisor, grant):
    with pytest.raises(errors.ValidationError) as refused:
        break_glass_review(grant_id=grant.pk, by=supervisor, outcome="fine")
    assert "outcome" in refused.value.field_errors


def test_other_agencies_and_other_roles_neither_see_nor_review_it(grant, outsider, officer, helper):
    with pytest.raises(errors.NotFound):
        break_glass_review(grant_id=grant.pk, by=outsider, outcome="justified")
    assert list(break_glass_review_list(user=outsider)) == []
    for user in (officer, helper):
        with pytest.raises(errors.NotFound):
            break_glass_review(grant_id=grant.pk, by=user, outcome="justified")
        with pytest.raises(errors.ActionNotAllowed):
            break_glass_review_list(user=user)
