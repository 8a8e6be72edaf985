"""The account services behind sign-in hardening: who may deactivate, set a password or lift
a sign-in pause, and what each one ends."""

import pytest
from axes.models import AccessFailureLog

from config.errors import ActionNotAllowed, ValidationError
from config.models import ApiToken
from screening import services
from screening.models import User
from screening.roles import Role
from screening.services.staff import (
    staff_deactivate,
    staff_password_set,
    staff_sessions_end,
    staff_unlock,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-new-long-passphrase-42"


@pytest.fixture
def admin(agency) -> User:
    return UserFactory(agency=agency, role=Role.AGENCY_ADMIN)


@pytest.mark.parametrize("who", ["supervisor", "outsider", "other_agency_admin", "inactive_admin"])
def test_only_an_active_administrator_of_the_agency_manages_the_account(
    who, officer, supervisor, outsider, other_agency, agency
):
    by = {
        "supervisor": lambda: supervisor,
        "outsider": lambda: outsider,
        "other_agency_admin": lambda: UserFactory(agency=other_agency, role=Role.AGENCY_ADMIN),
        "inactive_admin": lambda: UserFactory(
            agency=agency, role=Role.AGENCY_ADMIN, is_active=False
        ),
    }[who]()
    token = services.api_token_create(user=officer, name="crm").token
    AccessFailureLog.objects.create(username=officer.username, user_agent="x", locked_out=True)
    with pytest.raises(ActionNotAllowed):
        staff_deactivate(member=officer, by=by)
    with pytest.raises(ActionNotAllowed):
        staff_password_set(member=officer, password=NEW_PASSWORD, by=by)
    with pytest.raises(ActionNotAllowed):
        staff_unlock(member=officer, by=by)
    officer.refresh_from_db()
    token.refresh_from_db()
    assert officer.is_active and officer.session_generation == 0
    assert token.revoked_at is None
    assert AccessFailureLog.objects.count() == 1


def test_a_superuser_may_deactivate_anyone(officer):
    root = User.objects.create_superuser("fictional-root", password="x" * 16)
    assert not staff_deactivate(member=officer, by=root).is_active


def test_deactivating_twice_changes_nothing_more_in_the_history(admin, officer):
    staff_deactivate(member=officer, by=admin)
    rows = officer.history.count()
    staff_deactivate(member=officer, by=admin)
    assert officer.history.count() == rows


def test_a_password_set_by_an_administrator_revokes_every_token(admin, officer):
    services.api_token_create(user=officer, name="crm")
    services.api_token_create(user=officer, name="other")
    services.api_token_create(user=admin, name="the admin's own")
    assert staff_password_set(member=officer, password=NEW_PASSWORD, by=admin) == 2
    assert ApiToken.objects.filter(revoked_at__isnull=True).get().user == admin


def test_a_password_the_validators_refuse_changes_nothing(officer):
    token = services.api_token_create(user=officer, name="crm").token
    with pytest.raises(ValidationError) as refused:
        staff_password_set(member=officer, password="12345", by=officer)
    assert refused.value.field_errors["password"]
    officer.refresh_from_db()
    token.refresh_from_db()
    assert officer.check_password("correct-horse-battery") and token.revoked_at is None


def test_a_password_change_leaves_no_history_row(officer):
    rows = officer.history.count()
    staff_password_set(member=officer, password=NEW_PASSWORD, by=officer)
    assert officer.history.count() == rows


def test_ending_sessions_changes_the_session_hash_and_nothing_else(officer):
    before = officer.get_session_auth_hash()
    rows = officer.history.count()
    staff_sessions_end(member=officer)
    assert officer.session_generation == 1
    assert officer.get_session_auth_hash() != before
    assert officer.history.count() == rows


def test_generation_zero_keeps_djangos_own_session_hash(officer):
    from django.contrib.auth.base_user import AbstractBaseUser

    assert officer.get_session_auth_hash() == AbstractBaseUser._get_session_auth_hash(officer)


def test_unlocking_forgets_only_that_members_failures(admin, officer, colleague):
    for username in (officer.username, colleague.username):
        AccessFailureLog.objects.create(username=username, user_agent="x", locked_out=True)
    assert staff_unlock(member=officer, by=admin) == 1
    assert list(AccessFailureLog.objects.values_list("username", flat=True)) == [colleague.username]
