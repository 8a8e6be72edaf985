"""Staff management by agency administrators (issue 15): adding a member, changing roles,
deactivating and reactivating, lifting a sign-in pause, and one-time set-password links. The
rules are the services'; the pages are tested in tests/screening/pages/."""

from datetime import timedelta

import pytest
from axes.models import AccessFailureLog
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.db import connection
from django.test import Client

from config.errors import ActionNotAllowed, InvalidState, ValidationError
from config.models import ApiToken
from screening import services
from screening.history import staff_change_history
from screening.models import Agency, User
from screening.permissions import staff_roles_grantable
from screening.roles import Role
from screening.services import staff_password_links as links
from screening.services.staff import (
    staff_create,
    staff_deactivate,
    staff_reactivate,
    staff_roles_change,
    staff_unlock,
)
from tests.concurrency import run_together
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-fictional-passphrase-7"


@pytest.fixture
def admin(agency) -> User:
    return UserFactory(agency=agency, role=Role.AGENCY_ADMIN, first_name="Ada", last_name="Admin")


@pytest.fixture
def provider_admin() -> User:
    shelter = AgencyFactory(name="Fictional Shelter", kind=Agency.Kind.SERVICE_PROVIDER)
    return UserFactory(agency=shelter, role=Role.AGENCY_ADMIN)


def roles_of(member: User) -> set[str]:
    return set(member.groups.values_list("name", flat=True))


def create(by: User, **overrides) -> User:
    arguments = {
        "username": "nova.reed",
        "first_name": "Nova",
        "last_name": "Reed",
        "email": "",
        "roles": [Role.SOCIAL_WORKER],
    }
    return staff_create(by=by, **{**arguments, **overrides})


# --- adding a member --------------------------------------------------------------------------


def test_a_new_member_joins_the_admins_agency_with_no_usable_password(admin, agency):
    member = create(admin, email="nova@example.org")
    member.refresh_from_db()
    assert member.agency == agency
    assert roles_of(member) == {Role.SOCIAL_WORKER}
    assert not member.has_usable_password()
    assert not member.is_superuser and not member.is_staff
    history = staff_change_history(user=admin, member=member)
    assert [change.who for change in history] == ["Ada Admin", "Ada Admin"]
    assert history[0].fields[0].new == "Social worker"


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"username": ""}, "username"),
        ({"username": "nova reed"}, "username"),
        ({"username": "x" * 151}, "username"),
        ({"first_name": "  "}, "first_name"),
        ({"email": "not-an-address"}, "email"),
        ({"roles": []}, "roles"),
        ({"roles": ["root"]}, "roles"),
        ({"roles": [Role.PROVIDER_STAFF]}, "roles"),  # not a case-work agency's role
    ],
)
def test_bad_input_names_the_field_and_adds_nobody(admin, overrides, field):
    before = User.objects.count()
    with pytest.raises(ValidationError) as refused:
        create(admin, **overrides)
    assert field in refused.value.field_errors
    assert User.objects.count() == before


def test_usernames_are_unique_whatever_their_case(admin):
    create(admin, username="nova.reed")
    with pytest.raises(ValidationError) as refused:
        create(admin, username="Nova.Reed")
    assert refused.value.field_errors["username"] == ["That username is taken: choose another."]


def test_a_providers_admin_grants_provider_roles_only(provider_admin):
    assert staff_roles_grantable(provider_admin.agency.kind) == (
        Role.PROVIDER_STAFF,
        Role.AGENCY_ADMIN,
    )
    for role in (Role.SUPERVISOR, Role.FRONTLINE_OFFICER, Role.SOCIAL_WORKER):
        with pytest.raises(ValidationError):
            create(provider_admin, roles=[role])
    member = create(provider_admin, roles=[Role.PROVIDER_STAFF])
    assert roles_of(member) == {Role.PROVIDER_STAFF}


@pytest.mark.parametrize("who", ["supervisor", "inactive_admin", "agencyless_admin"])
def test_only_an_agency_administrator_adds_members(who, supervisor, agency):
    by = {
        "supervisor": lambda: supervisor,
        "inactive_admin": lambda: UserFactory(
            agency=agency, role=Role.AGENCY_ADMIN, is_active=False
        ),
        "agencyless_admin": lambda: UserFactory(agency=None, role=Role.AGENCY_ADMIN),
    }[who]()
    with pytest.raises(ActionNotAllowed):
        create(by)
    assert not User.objects.filter(username="nova.reed").exists()


# --- roles ----------------------------------------------------------------------------------


def test_an_admin_changes_a_members_roles_in_the_history(admin, officer):
    staff_roles_change(member=officer, roles=[Role.SUPERVISOR], by=admin)
    assert roles_of(officer) == {Role.SUPERVISOR}
    latest = staff_change_history(user=admin, member=officer)[0]
    assert latest.who == "Ada Admin"
    assert (latest.fields[0].old, latest.fields[0].new) == ("Frontline officer", "Supervisor")


def test_another_agencys_admin_changes_nothing(officer, other_agency):
    other_admin = UserFactory(agency=other_agency, role=Role.AGENCY_ADMIN)
    with pytest.raises(ActionNotAllowed):
        staff_roles_change(member=officer, roles=[Role.AGENCY_ADMIN], by=other_admin)
    assert roles_of(officer) == {Role.FRONTLINE_OFFICER}


def test_a_role_outside_the_agencys_kind_can_be_taken_away_not_given(provider_admin):
    member = UserFactory(agency=provider_admin.agency, role=Role.PROVIDER_STAFF)
    services.staff_roles_set(user=member, roles=[Role.PROVIDER_STAFF, Role.SUPERVISOR], by=None)
    staff_roles_change(member=member, roles=[Role.PROVIDER_STAFF], by=provider_admin)
    assert roles_of(member) == {Role.PROVIDER_STAFF}
    with pytest.raises(ValidationError) as refused:
        staff_roles_change(member=member, roles=[Role.SUPERVISOR], by=provider_admin)
    assert "can give these roles" in refused.value.field_errors["roles"][0]
    assert roles_of(member) == {Role.PROVIDER_STAFF}


def test_a_member_keeps_at_least_one_role(admin, officer):
    with pytest.raises(ValidationError) as refused:
        staff_roles_change(member=officer, roles=[], by=admin)
    assert "deactivate" in refused.value.field_errors["roles"][0]
    assert roles_of(officer) == {Role.FRONTLINE_OFFICER}


def test_an_admin_cannot_remove_their_own_admin_role(admin, agency):
    UserFactory(agency=agency, role=Role.AGENCY_ADMIN)  # another admin exists
    with pytest.raises(ValidationError) as refused:
        staff_roles_change(member=admin, roles=[Role.SUPERVISOR], by=admin)
    assert "your own administrator role" in refused.value.field_errors["roles"][0]
    assert roles_of(admin) == {Role.AGENCY_ADMIN}


def test_the_agencys_last_active_admin_keeps_the_role(admin, agency):
    root = User.objects.create_superuser("fictional-root", password="x" * 16)
    UserFactory(agency=agency, role=Role.AGENCY_ADMIN, is_active=False)  # does not count
    with pytest.raises(ValidationError) as refused:
        staff_roles_change(member=admin, roles=[Role.SUPERVISOR], by=root)
    assert "last active administrator" in refused.value.field_errors["roles"][0]
    assert roles_of(admin) == {Role.AGENCY_ADMIN}
    second = UserFactory(agency=agency, role=Role.AGENCY_ADMIN)
    staff_roles_change(member=second, roles=[Role.SUPERVISOR], by=admin)  # admin remains
    assert roles_of(second) == {Role.SUPERVISOR}


# --- deactivating, reactivating, lifting a pause -----------------------------------------------


def test_deactivating_ends_sessions_and_revokes_tokens_and_keeps_the_history(admin, officer):
    token = services.api_token_create(user=officer, name="crm").token
    members_session = Client()
    members_session.force_login(officer)
    assert members_session.get("/").status_code == 200
    staff_deactivate(member=officer, by=admin)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert members_session.get("/").status_code == 302  # signed out at its next request
    assert User.objects.filter(pk=officer.pk).exists()  # never deleted
    latest = staff_change_history(user=admin, member=officer)[0]
    assert (latest.who, latest.fields[0].field, latest.fields[0].new) == (
        "Ada Admin",
        "Active",
        "No",
    )


def test_reactivating_revives_no_session_and_no_token(admin, officer):
    token = services.api_token_create(user=officer, name="crm").token
    members_session = Client()
    members_session.force_login(officer)
    staff_deactivate(member=officer, by=admin)
    member = staff_reactivate(member=officer, by=admin)
    assert member.is_active
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert members_session.get("/").status_code == 302
    latest = staff_change_history(user=admin, member=officer)[0]
    assert (latest.fields[0].old, latest.fields[0].new) == ("No", "Yes")


def test_another_agencys_admin_cannot_reactivate(admin, officer, other_agency):
    staff_deactivate(member=officer, by=admin)
    with pytest.raises(ActionNotAllowed):
        staff_reactivate(
            member=officer, by=UserFactory(agency=other_agency, role=Role.AGENCY_ADMIN)
        )
    officer.refresh_from_db()
    assert not officer.is_active


def test_lifting_a_pause_is_in_the_change_history(admin, officer):
    AccessFailureLog.objects.create(username=officer.username, user_agent="x", locked_out=True)
    assert staff_unlock(member=officer, by=admin) == 1
    latest = staff_change_history(user=admin, member=officer)[0]
    assert (latest.who, latest.reason, latest.fields) == ("Ada Admin", "Sign-in pause lifted", ())
    rows = officer.history.count()
    assert staff_unlock(member=officer, by=admin) == 0  # nothing to lift: no row
    assert officer.history.count() == rows
    assert roles_of(officer) == {Role.FRONTLINE_OFFICER}


# --- set-password links ---------------------------------------------------------------------


def test_a_link_sets_the_password_once(admin):
    member = create(admin)
    link = links.staff_password_link_make(member=member, by=admin)
    assert links.staff_password_link_member(uidb64=link.uidb64, token=link.token) == member
    links.staff_password_link_use(uidb64=link.uidb64, token=link.token, password=NEW_PASSWORD)
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)
    assert links.staff_password_link_member(uidb64=link.uidb64, token=link.token) is None
    with pytest.raises(InvalidState):
        links.staff_password_link_use(
            uidb64=link.uidb64, token=link.token, password="another-long-passphrase-9"
        )
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)
    reasons = [change.reason for change in staff_change_history(user=admin, member=member)]
    assert reasons[:2] == [links.HISTORY_REASON_PASSWORD_SET, links.HISTORY_REASON_LINK_MADE]
    assert staff_change_history(user=admin, member=member)[0].who == member.get_full_name()


def test_a_new_link_replaces_the_old_one_and_the_old_password(admin, officer):
    token = services.api_token_create(user=officer, name="crm").token
    first = links.staff_password_link_make(member=officer, by=admin)
    officer.refresh_from_db()
    assert not officer.has_usable_password()  # the forgotten password works no more
    second = links.staff_password_link_make(member=officer, by=admin)
    assert links.staff_password_link_member(uidb64=first.uidb64, token=first.token) is None
    links.staff_password_link_use(uidb64=second.uidb64, token=second.token, password=NEW_PASSWORD)
    token.refresh_from_db()
    assert token.revoked_at is not None  # a new password revokes the API tokens, as always


def test_a_password_the_validators_refuse_leaves_the_link_working(admin):
    member = create(admin)
    link = links.staff_password_link_make(member=member, by=admin)
    for weak in ("short", "123456789012345", "nova.reed.nova"):
        with pytest.raises(ValidationError):
            links.staff_password_link_use(uidb64=link.uidb64, token=link.token, password=weak)
    member.refresh_from_db()
    assert not member.has_usable_password()
    assert links.staff_password_link_member(uidb64=link.uidb64, token=link.token) == member


def test_deactivation_kills_a_link_for_good(admin, officer):
    link = links.staff_password_link_make(member=officer, by=admin)
    staff_deactivate(member=officer, by=admin)
    assert links.staff_password_link_member(uidb64=link.uidb64, token=link.token) is None
    staff_reactivate(member=officer, by=admin)
    assert links.staff_password_link_member(uidb64=link.uidb64, token=link.token) is None
    with pytest.raises(InvalidState):
        links.staff_password_link_make(member=staff_deactivate(member=officer, by=admin), by=admin)


def test_a_link_expires(admin, officer, monkeypatch, settings):
    link = links.staff_password_link_make(member=officer, by=admin)
    later = links.password_link_tokens._now() + timedelta(
        seconds=settings.PASSWORD_RESET_TIMEOUT + 1
    )
    monkeypatch.setattr(links.password_link_tokens, "_now", lambda: later)
    assert links.staff_password_link_member(uidb64=link.uidb64, token=link.token) is None


def test_links_and_djangos_password_reset_tokens_are_not_interchangeable(admin, officer):
    link = links.staff_password_link_make(member=officer, by=admin)
    officer.refresh_from_db()
    assert not default_token_generator.check_token(officer, link.token)
    django_token = default_token_generator.make_token(officer)
    assert links.staff_password_link_member(uidb64=link.uidb64, token=django_token) is None


@pytest.mark.parametrize("uidb64", ["", "!!", "MTIzNDU2Nzg5", "bm90LWEtbnVtYmVy"])
def test_a_made_up_link_opens_nothing(uidb64):
    assert links.staff_password_link_member(uidb64=uidb64, token="abc-def") is None


def test_only_the_members_admin_makes_a_link_and_not_for_themselves(admin, officer, outsider):
    other_admin = UserFactory(agency=outsider.agency, role=Role.AGENCY_ADMIN)
    for by in (other_admin, outsider, UserFactory(agency=officer.agency, role=Role.SUPERVISOR)):
        with pytest.raises(ActionNotAllowed):
            links.staff_password_link_make(member=officer, by=by)
    with pytest.raises(ValidationError):
        links.staff_password_link_make(member=admin, by=admin)
    officer.refresh_from_db()
    assert officer.check_password("correct-horse-battery")  # untouched


def test_the_email_holds_the_link_and_nothing_else_that_matters(admin):
    member = create(admin, email="nova@example.org")
    link = links.staff_password_link_make(member=member, by=admin)
    url = f"https://screening.example/accounts/set-password/{link.uidb64}/{link.token}/"
    assert links.staff_password_link_email(link=link, url=url)
    (message,) = mail.outbox
    assert message.to == ["nova@example.org"]
    assert url in message.body
    assert member.username not in message.body and member.username not in message.subject
    assert "password:" not in message.body.lower()  # the member chooses it; none is sent
    assert "C-" not in message.body  # no case reference


def test_no_address_no_email(admin):
    link = links.staff_password_link_make(member=create(admin), by=admin)
    assert not links.staff_password_link_email(link=link, url="https://x.example/")
    assert mail.outbox == []


def test_a_mail_server_that_refuses_is_reported_not_raised(admin, monkeypatch, caplog):
    member = create(admin, email="nova@example.org")
    link = links.staff_password_link_make(member=member, by=admin)

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(links, "send_mail", refuse)
    assert not links.staff_password_link_email(link=link, url="https://x.example/")
    assert "ConnectionRefusedError" in caplog.text
    assert "nova@example.org" not in caplog.text


def test_api_tokens_of_a_member_are_untouched_by_a_role_change(admin, officer):
    services.api_token_create(user=officer, name="crm")
    staff_roles_change(member=officer, roles=[Role.SOCIAL_WORKER], by=admin)
    assert ApiToken.objects.filter(user=officer, revoked_at__isnull=True).count() == 1


# --- races (PostgreSQL: SQLite serialises writers) ------------------------------------------


def _needs_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no race to test")


def _outcome(call) -> str:
    try:
        call()
    except (InvalidState, ValidationError, ActionNotAllowed) as refused:
        return type(refused).__name__
    return "done"


@pytest.mark.django_db(transaction=True)
@pytest.mark.integration
def test_two_uses_of_one_link_at_the_same_moment_set_one_password(admin):
    _needs_postgresql()
    member = create(admin)
    link = links.staff_password_link_make(member=member, by=admin)
    passwords = ("first-fictional-passphrase-1", "second-fictional-passphrase-2")
    outcomes = run_together(
        *(
            lambda password=password: _outcome(
                lambda: links.staff_password_link_use(
                    uidb64=link.uidb64, token=link.token, password=password
                )
            )
            for password in passwords
        )
    )
    assert sorted(outcomes) == ["InvalidState", "done"]
    member.refresh_from_db()
    winner = passwords[outcomes.index("done")]
    assert member.check_password(winner)


@pytest.mark.django_db(transaction=True)
@pytest.mark.integration
def test_two_admins_removing_each_others_role_at_once_leave_one_admin(admin, agency):
    _needs_postgresql()
    second = UserFactory(agency=agency, role=Role.AGENCY_ADMIN)
    outcomes = run_together(
        lambda: _outcome(
            lambda: staff_roles_change(member=second, roles=[Role.SUPERVISOR], by=admin)
        ),
        lambda: _outcome(
            lambda: staff_roles_change(member=admin, roles=[Role.SUPERVISOR], by=second)
        ),
    )
    # The second waits for the first (the agency's row is locked), then finds itself no
    # longer an administrator, or the other the last one.
    assert sorted(outcomes)[1] == "done"
    assert sorted(outcomes)[0] in ("ActionNotAllowed", "ValidationError")
    admins = User.objects.filter(agency=agency, groups__name=Role.AGENCY_ADMIN)
    assert admins.count() == 1
