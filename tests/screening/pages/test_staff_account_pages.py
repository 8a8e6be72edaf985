"""Agency administrators' controls over their members' accounts: the paused sign-ins (and
lifting a pause), and deactivating a member."""

import pytest
from axes.models import AccessFailureLog
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from config.models import AccessLogEntry, ApiToken
from screening import services
from screening.models import User
from screening.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOCKOUTS = "/agency/lockouts/"
PASSWORD = "correct-horse-battery"


def unlock_url(member) -> str:
    return f"/staff/{member.pk}/unlock"


def deactivate_url(member) -> str:
    return f"/staff/{member.pk}/deactivate/"


def lock_out(member) -> None:
    """Five wrong passwords from an address of the member's own (so no address is paused)."""
    client = Client(REMOTE_ADDR=f"192.0.2.{member.pk % 250 + 1}")
    for _ in range(5):
        client.post("/accounts/login/", {"username": member.username, "password": "wrong"})


def can_sign_in(member) -> bool:
    response = Client(REMOTE_ADDR="198.51.100.60").post(
        "/accounts/login/", {"username": member.username, "password": PASSWORD}
    )
    return response.status_code == 302


@pytest.fixture
def admin(agency) -> User:
    return UserFactory(agency=agency, role=Role.AGENCY_ADMIN, first_name="Ada", last_name="Admin")


@pytest.fixture
def other_admin(other_agency) -> User:
    return UserFactory(agency=other_agency, role=Role.AGENCY_ADMIN)


# --- paused sign-ins ------------------------------------------------------------------------


def test_the_pages_need_a_signed_in_person(client, officer):
    for url in (LOCKOUTS, deactivate_url(officer)):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(settings.LOGIN_URL)
    lock_out(officer)
    response = client.post(unlock_url(officer))
    assert response.status_code == 302 and response["Location"].startswith(settings.LOGIN_URL)
    assert not can_sign_in(officer)


def test_only_agency_administrators_see_the_paused_sign_ins(client_for, supervisor, officer):
    lock_out(officer)
    assert client_for(supervisor).get(LOCKOUTS).status_code == 403
    assert client_for(officer).get(LOCKOUTS).status_code == 403


def test_the_list_shows_the_agencys_paused_members_only(
    client_for, admin, officer, colleague, outsider
):
    lock_out(officer)
    lock_out(outsider)
    client = client_for(admin)
    client.get(LOCKOUTS)  # warm up (session, roles)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(LOCKOUTS).content.decode()
    assert f'action="{unlock_url(officer)}"' in page
    assert officer.username in page
    assert colleague.username not in page
    assert outsider.username not in page and f'action="{unlock_url(outsider)}"' not in page
    assert "5 unsuccessful sign-in attempts within 15 minutes" in page
    baseline = len(queries)
    lock_out(colleague)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(LOCKOUTS).content.decode()
    assert colleague.username in page
    assert len(queries) == baseline  # one query for the list, however many


def test_the_account_page_of_an_administrator_links_to_the_list(client_for, admin, officer):
    assert f'href="{LOCKOUTS}"' in client_for(admin).get("/account/").content.decode()
    assert f'href="{LOCKOUTS}"' not in client_for(officer).get("/account/").content.decode()


def test_an_empty_list_says_so(client_for, admin):
    assert "No member of your agency has a paused sign-in" in (
        client_for(admin).get(LOCKOUTS).content.decode()
    )


def test_an_administrator_lifts_a_members_pause(client_for, admin, officer):
    lock_out(officer)
    assert not can_sign_in(officer)
    client = client_for(admin)
    response = client.post(unlock_url(officer))
    assert response.status_code == 302 and response["Location"] == LOCKOUTS
    assert "can sign in again now" in client.get(LOCKOUTS).content.decode()
    assert can_sign_in(officer)
    entry = AccessLogEntry.objects.get(route="screening:staff-unlock")
    assert (entry.user, entry.method, entry.status_code) == (admin, "POST", 302)
    assert (entry.object_type, entry.object_ref) == ("staff", str(officer.pk))


def test_another_agencys_administrator_cannot_lift_it(client_for, other_admin, officer):
    lock_out(officer)
    assert client_for(other_admin).post(unlock_url(officer)).status_code == 404
    assert not can_sign_in(officer)
    assert AccessFailureLog.objects.filter(username=officer.username).count() == 5


def test_a_colleague_who_is_not_an_administrator_cannot_lift_it(client_for, supervisor, officer):
    lock_out(officer)
    assert client_for(supervisor).post(unlock_url(officer)).status_code == 403
    assert not can_sign_in(officer)


def test_unlocking_is_a_post(client_for, admin, officer):
    lock_out(officer)
    # A GET (a reload, a link) unlocks nobody: it leads back to the lockouts page.
    response = client_for(admin).get(unlock_url(officer))
    assert response.status_code == 302 and response["Location"] == "/agency/lockouts/"
    assert not can_sign_in(officer)


# --- deactivation ---------------------------------------------------------------------------


def test_an_administrator_deactivates_a_member(client_for, admin, officer):
    token = services.api_token_create(user=officer, name="crm").token
    members_session = client_for(officer)
    client = client_for(admin)
    page = client.get(deactivate_url(officer)).content.decode()
    assert "Deactivate this account" in page and officer.username in page
    response = client.post(deactivate_url(officer))
    assert response.status_code == 302 and response["Location"] == deactivate_url(officer)
    assert "account is deactivated" in client.get(deactivate_url(officer)).content.decode()
    officer.refresh_from_db()
    assert not officer.is_active
    assert members_session.get("/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert not can_sign_in(officer)
    latest = officer.history.first()
    assert (latest.is_active, latest.history_user) == (False, admin)


def test_another_agencys_administrator_cannot_deactivate(client_for, other_admin, officer):
    client = client_for(other_admin)
    assert client.get(deactivate_url(officer)).status_code == 404
    assert client.post(deactivate_url(officer)).status_code == 404
    officer.refresh_from_db()
    assert officer.is_active


def test_a_colleague_who_is_not_an_administrator_cannot_deactivate(client_for, supervisor, officer):
    assert client_for(supervisor).post(deactivate_url(officer)).status_code == 403
    officer.refresh_from_db()
    assert officer.is_active


def test_an_administrator_cannot_deactivate_their_own_account(client_for, admin):
    client = client_for(admin)
    assert "You cannot deactivate your own account" in (
        client.get(deactivate_url(admin)).content.decode()
    )
    response = client.post(deactivate_url(admin))
    assert response.status_code == 400
    admin.refresh_from_db()
    assert admin.is_active
    assert client.get(LOCKOUTS).status_code == 200  # still signed in


# --- the Django admin -----------------------------------------------------------------------


@pytest.fixture
def superuser_client(agency):
    root = User.objects.create_superuser("fictional-root", password="x" * 16)
    client = Client()
    client.force_login(root)
    return client


def test_deactivating_in_the_django_admin_ends_sessions_and_tokens(superuser_client, officer):
    token = services.api_token_create(user=officer, name="crm").token
    members_session = Client()
    members_session.force_login(officer)
    url = f"/admin/screening/user/{officer.pk}/change/"
    form = superuser_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "username": officer.username,
            "date_joined_0": officer.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": officer.date_joined.strftime("%H:%M:%S"),
            "groups": [group.pk for group in officer.groups.all()],
            "agency": officer.agency_id,
        }
    )
    data.pop("is_active", None)  # an unticked box is absent
    data.pop("last_login", None)
    data.pop("user_permissions", None)
    response = superuser_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    officer.refresh_from_db()
    assert not officer.is_active
    officer.is_active = True
    officer.save()
    assert members_session.get("/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_password_set_in_the_django_admin_revokes_tokens(superuser_client, officer):
    token = services.api_token_create(user=officer, name="crm").token
    response = superuser_client.post(
        f"/admin/screening/user/{officer.pk}/password/",
        {
            "password1": "a-new-long-passphrase-42",
            "password2": "a-new-long-passphrase-42",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 0
