"""The agency administrator's staff pages (issue 15): the list, a member's page and its change
history, adding a member, changing roles, making a set-password link, reactivating; and the
member's set-password page. Every page: anonymous, wrong agency, wrong role, happy path. An
administrator of agency A changes nothing of agency B's staff on any form."""

from __future__ import annotations

import re

import pytest
from axes.models import AccessFailureLog
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.html import strip_tags
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.models import AccessLogEntry, ApiToken
from screening import services
from screening.models import Agency, User
from screening.roles import Role
from screening.services.staff import staff_deactivate
from screening.services.staff_password_links import staff_password_link_make
from tests.factories import AgencyFactory, UserFactory
from tests.pages import assert_no_count_or_offset, follow, page_link

pytestmark = pytest.mark.django_db

STAFF = "/agency/staff/"
NEW = "/agency/staff/new/"
PASSWORD = "correct-horse-battery"  # the factories'
NEW_PASSWORD = "a-long-fictional-passphrase-7"


def detail_url(member) -> str:
    return f"/agency/staff/{member.pk}/"


def roles_url(member) -> str:
    return f"/agency/staff/{member.pk}/roles/"


def link_url(member) -> str:
    return f"/agency/staff/{member.pk}/password-link/"


def reactivate_url(member) -> str:
    return f"/agency/staff/{member.pk}/reactivate"


MEMBER_PAGES = (detail_url, roles_url, link_url)
# Every address that changes a member, with what it posts: the new pages and the older ones
# the member's page links to.
MEMBER_POSTS = (
    (roles_url, {"roles": [Role.AGENCY_ADMIN]}),
    (link_url, {}),
    (reactivate_url, {}),
    (lambda member: f"/staff/{member.pk}/deactivate/", {}),
    (lambda member: f"/staff/{member.pk}/unlock", {"back": "member"}),
    (lambda member: f"/staff/{member.pk}/mfa-reset/", {}),
)


@pytest.fixture
def admin(agency) -> User:
    return UserFactory(agency=agency, role=Role.AGENCY_ADMIN, first_name="Ada", last_name="Admin")


@pytest.fixture
def other_admin(other_agency) -> User:
    return UserFactory(agency=other_agency, role=Role.AGENCY_ADMIN)


def text_of(response) -> str:
    return response.content.decode()


def words(html: str) -> str:
    return " ".join(strip_tags(html).replace("&rarr;", "→").split())


def cards(page: str) -> dict[str, str]:
    """The staff list's cards: the member page each links to → the words it shows."""
    found = {}
    for card in re.findall(r'<li class="case-card">(.*?)</li>', page, re.S):
        href = re.search(r'<h2 class="token-name"><a href="([^"]+)"', card).group(1)
        found[href] = words(card)
    return found


def error_summary(page: str) -> str:
    return words(re.search(r'<div class="error-summary".*?</div>', page, re.S).group(0))


def title(page: str) -> str:
    return re.search(r"<title>(.*?)</title>", page, re.S).group(1).strip()


def history_rows(page: str) -> list[str]:
    body = re.search(r'<table class="history.*?<tbody role="rowgroup">(.*?)</tbody>', page, re.S)
    return [words(row) for row in re.findall(r"<tr role=\"row\">(.*?)</tr>", body.group(1), re.S)]


def facts(page: str) -> str:
    return words(re.search(r'<dl class="facts">(.*?)</dl>', page, re.S).group(1))


def set_password_link_in(page: str) -> str:
    match = re.search(r'id="set-password-link"[^>]*value="([^"]+)"', page)
    assert match, "no link on the page"
    return match.group(1).replace("http://testserver", "")


def account_state(member: User) -> tuple:
    member.refresh_from_db()
    return (
        member.is_active,
        member.password,
        member.session_generation,
        frozenset(member.groups.values_list("name", flat=True)),
        member.history.count(),
        ApiToken.objects.filter(user=member, revoked_at__isnull=True).count(),
        TOTPDevice.objects.filter(user=member).count(),
        AccessFailureLog.objects.filter(username=member.username).count(),
    )


def add_member(client, **overrides) -> str:
    data = {
        "username": "nova.reed",
        "first_name": "Nova",
        "last_name": "Reed",
        "email": "",
        "roles": [Role.SOCIAL_WORKER],
        **overrides,
    }
    response = client.post(NEW, data)
    assert response.status_code == 200, response.content.decode()[:2000]
    return text_of(response)


# --- anonymous, wrong role, wrong agency ------------------------------------------------------


def test_every_page_needs_a_signed_in_person(client, officer):
    for url in (STAFF, NEW, *(page(officer) for page in MEMBER_PAGES)):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(settings.LOGIN_URL)
    before = account_state(officer)
    for url, data in ((NEW, {"username": "x"}), *((u(officer), d) for u, d in MEMBER_POSTS)):
        response = client.post(url, data)
        assert response.status_code == 302 and response["Location"].startswith(settings.LOGIN_URL)
    assert account_state(officer) == before
    assert not User.objects.filter(username="x").exists()


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.FRONTLINE_OFFICER, Role.HOTLINE_STAFF])
def test_colleagues_who_are_not_administrators_get_403(client_for, agency, officer, role):
    client = client_for(UserFactory(agency=agency, role=role))
    for url in (STAFF, NEW, *(page(officer) for page in MEMBER_PAGES)):
        assert client.get(url).status_code == 403, url
    before = account_state(officer)
    assert (
        client.post(
            NEW, {"username": "x", "first_name": "X", "roles": ["social_worker"]}
        ).status_code
        == 403
    )
    for url, data in MEMBER_POSTS:
        assert client.post(url(officer), data).status_code == 403, url(officer)
    assert account_state(officer) == before
    assert not User.objects.filter(username="x").exists()


def test_another_agencys_administrator_finds_no_member_and_changes_nothing(
    client_for, other_admin, officer, admin
):
    """Agency A's administrator and agency B's staff: every page and every form is a 404,
    exactly as for a member who does not exist, and nothing changes."""
    AccessFailureLog.objects.create(username=officer.username, user_agent="x", locked_out=True)
    TOTPDevice.objects.create(user=officer, name="app", confirmed=True)
    services.api_token_create(user=officer, name="crm")
    client = client_for(other_admin)
    for member in (officer, admin):
        for page in MEMBER_PAGES:
            assert client.get(page(member)).status_code == 404, page(member)
        before = account_state(member)
        for url, data in MEMBER_POSTS:
            assert client.post(url(member), data).status_code == 404, url(member)
        assert account_state(member) == before
    staff_deactivate(member=officer, by=admin)
    before = account_state(officer)
    assert client.post(reactivate_url(officer)).status_code == 404
    assert account_state(officer) == before
    missing = type("Missing", (), {"pk": 999999})()
    assert client.get(detail_url(missing)).status_code == 404


def test_the_list_shows_the_own_agencys_members_only(client_for, admin, officer, outsider):
    page = text_of(client_for(admin).get(STAFF))
    assert officer.username in page and admin.username in page
    assert outsider.username not in page and detail_url(outsider) not in page


def test_an_administrator_adds_members_to_their_own_agency_only(client_for, admin, other_agency):
    client = client_for(admin)
    add_member(client, agency=other_agency.pk, is_superuser="on", is_staff="on")
    member = User.objects.get(username="nova.reed")
    assert member.agency == admin.agency
    assert not member.is_superuser and not member.is_staff


# --- the list -------------------------------------------------------------------------------


def test_the_list_shows_roles_state_pause_and_two_step_sign_in(client_for, admin, agency):
    paused = UserFactory(agency=agency, role=Role.SUPERVISOR, username="b.paused")
    AccessFailureLog.objects.create(username=paused.username, user_agent="x", locked_out=True)
    gone = UserFactory(agency=agency, role=Role.SOCIAL_WORKER, username="c.gone")
    staff_deactivate(member=gone, by=admin)
    TOTPDevice.objects.create(user=paused, name="app", confirmed=True)
    client = client_for(admin)
    cards_ = cards(text_of(client.get(STAFF)))
    assert (
        "Supervisor" in cards_[detail_url(paused)]
        and "supervisor" not in cards_[detail_url(paused)]
    )
    assert "Sign-in paused" in cards_[detail_url(paused)]
    assert "Two-step sign-in set up" in cards_[detail_url(paused)]
    assert "Deactivated" in cards_[detail_url(gone)] and "Social worker" in cards_[detail_url(gone)]
    assert "Sign-in paused" not in cards_[detail_url(admin)]
    active = text_of(client.get(f"{STAFF}?status=active"))
    assert detail_url(paused) in active and detail_url(gone) not in active
    deactivated = text_of(client.get(f"{STAFF}?status=deactivated"))
    assert detail_url(gone) in deactivated and detail_url(paused) not in deactivated


def test_the_lists_query_count_does_not_grow_with_its_members(
    client_for, admin, agency, django_assert_num_queries
):
    client = client_for(admin)
    client.get(STAFF)  # warm up (session, roles)
    with CaptureQueriesContext(connection) as queries:
        client.get(STAFF)
    for index in range(12):
        member = UserFactory(agency=agency, role=Role.SOCIAL_WORKER)
        if index % 3 == 0:
            AccessFailureLog.objects.create(
                username=member.username, user_agent="x", locked_out=True
            )
            TOTPDevice.objects.create(user=member, name="app", confirmed=True)
    with django_assert_num_queries(len(queries)):
        page = text_of(client.get(STAFF))
    assert page.count('class="case-card"') == 13
    # Session, user, verified device, roles; the page of members, their roles; the access
    # log entry; the session's renewal (three statements).
    assert len(queries) == 10


def test_the_list_pages_by_username_with_no_count_and_no_offset(
    client_for, admin, agency, monkeypatch
):
    monkeypatch.setattr("screening.views.staff.STAFF_PER_PAGE", 3)
    for index in range(7):
        UserFactory(agency=agency, role=Role.SOCIAL_WORKER, username=f"m{index:02d}")
    client = client_for(admin)
    with CaptureQueriesContext(connection) as queries:
        first = text_of(client.get(STAFF))
    assert_no_count_or_offset(queries)
    pages = [first]
    while link := page_link(pages[-1], "next"):
        pages.append(follow(client, STAFF, link))
    names = [
        re.search(r"Username (\S+)", text).group(0)
        for page in pages
        for text in cards(page).values()
    ]
    usernames = sorted([admin.username, *(f"m{index:02d}" for index in range(7))])
    assert names == [f"Username {name}" for name in usernames]
    assert len(pages) == 3


def test_the_menu_shows_staff_to_administrators_only(client_for, admin, officer, supervisor):
    assert f'href="{STAFF}"' in text_of(client_for(admin).get("/account/"))
    for user in (officer, supervisor):
        assert f'href="{STAFF}"' not in text_of(client_for(user).get("/account/"))


def test_the_account_page_title_is_plain(client_for, admin):
    assert title(text_of(client_for(admin).get("/account/"))) == "Your account · Case screening"


# --- adding a member and their set-password link ---------------------------------------------


def test_adding_a_member_shows_their_link_once_and_emails_it(client_for, admin):
    client = client_for(admin)
    page = add_member(client, email="nova@example.org", roles=[Role.SOCIAL_WORKER])
    member = User.objects.get(username="nova.reed")
    assert not member.has_usable_password()
    link = set_password_link_in(page)
    assert link.startswith("/accounts/set-password/")
    assert "shown only once" in page and "emailed to nova@example.org" in page
    assert "Copy the link" in page
    (message,) = mail.outbox
    assert f"http://testserver{link}" in message.body
    assert detail_url(member) in page  # onward to their page
    # The member's page never shows the link again.
    assert link not in text_of(client.get(detail_url(member)))


def test_a_form_with_mistakes_says_which_field_and_adds_nobody(client_for, admin):
    client = client_for(admin)
    UserFactory(agency=admin.agency, username="taken")
    response = client.post(NEW, {"username": "", "first_name": "", "roles": []})
    assert response.status_code == 400
    summary = error_summary(text_of(response))
    assert "Username: This field is required" in summary
    assert "First name: This field is required" in summary
    assert "Roles: Choose at least one role" in summary
    response = client.post(
        NEW, {"username": "Taken", "first_name": "Nova", "roles": [Role.SOCIAL_WORKER]}
    )
    assert response.status_code == 400
    assert "Username: That username is taken" in error_summary(text_of(response))
    assert User.objects.filter(username__iexact="taken").count() == 1
    assert not User.objects.filter(first_name="Nova").exists()
    assert mail.outbox == []


def test_the_form_offers_the_roles_of_the_agencys_kind(client_for):
    shelter = AgencyFactory(kind=Agency.Kind.SERVICE_PROVIDER)
    client = client_for(UserFactory(agency=shelter, role=Role.AGENCY_ADMIN))
    boxes = re.findall(r'name="roles" value="([^"]+)"', text_of(client.get(NEW)))
    assert boxes == [Role.PROVIDER_STAFF, Role.AGENCY_ADMIN]
    response = client.post(
        NEW, {"username": "nova.reed", "first_name": "Nova", "roles": [Role.SUPERVISOR]}
    )
    assert response.status_code == 400
    assert not User.objects.filter(username="nova.reed").exists()


def test_the_new_member_sets_a_password_once_and_signs_in(client_for, admin):
    link = set_password_link_in(add_member(client_for(admin)))
    member_browser = Client()
    response = member_browser.get(link)
    # The token leaves the address at once (no Referer, no browser history holds it).
    assert response.status_code == 302
    token_free = response["Location"]
    assert token_free.endswith("/set-password/") and link.split("/")[-2] not in token_free
    form_page = text_of(member_browser.get(token_free))
    assert "Choose your password" in form_page and "nova.reed" in form_page
    response = member_browser.post(
        token_free, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == settings.LOGIN_URL
    assert "Your password is set" in text_of(member_browser.get(settings.LOGIN_URL))
    response = Client().post(
        "/accounts/login/", {"username": "nova.reed", "password": NEW_PASSWORD}
    )
    assert response.status_code == 302
    # Once: the same link, in this browser or another, no longer works.
    for browser in (member_browser, Client()):
        page = text_of(browser.get(link, follow=True))
        assert "This link no longer works" in page
    assert "This link no longer works" in text_of(member_browser.get(token_free))
    member = User.objects.get(username="nova.reed")
    assert member.check_password(NEW_PASSWORD)


def test_the_set_password_page_applies_the_validators(client_for, admin):
    link = set_password_link_in(add_member(client_for(admin)))
    browser = Client()
    token_free = browser.get(link)["Location"]
    for weak in ("short-one", "123456789012345", "nova.reed.1"):
        response = browser.post(token_free, {"new_password1": weak, "new_password2": weak})
        assert response.status_code == 400
        assert "There is a problem" in text_of(response)
    response = browser.post(
        token_free, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"}
    )
    assert response.status_code == 400
    assert not User.objects.get(username="nova.reed").has_usable_password()


def test_a_supervisor_sets_up_two_step_sign_in_before_anything_else(client_for, admin):
    link = set_password_link_in(add_member(client_for(admin), roles=[Role.SUPERVISOR]))
    browser = Client()
    token_free = browser.get(link)["Location"]
    assert "Your role needs two-step sign-in" in text_of(browser.get(token_free))
    browser.post(token_free, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    response = browser.post(
        "/accounts/login/", {"username": "nova.reed", "password": NEW_PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0].startswith("/accounts/mfa/setup/")
    assert browser.get("/").status_code == 302  # nothing else until it is set up


def test_a_signed_in_browser_cannot_use_someone_elses_link(client_for, admin):
    client = client_for(admin)
    link = set_password_link_in(add_member(client))
    response = client.get(link)
    assert response.status_code == 409 and "Sign out first" in text_of(response)
    token_free = Client().get(link)["Location"]  # the link still works elsewhere
    assert token_free.endswith("/set-password/")


def test_a_made_up_or_edited_link_opens_nothing(client_for, admin):
    link = set_password_link_in(add_member(client_for(admin)))
    edited = link[:-3] + ("x" if link[-3] != "x" else "y") + link[-2:]
    for address in (edited, "/accounts/set-password/MQ/abc-def/", "/accounts/set-password/!/x/"):
        response = Client().get(address)
        assert response.status_code == 200 and "This link no longer works" in text_of(response)


# --- a member's page ----------------------------------------------------------------------


def test_a_members_page_shows_the_account_and_who_changed_it(client_for, admin, officer):
    client = client_for(admin)
    response = client.post(roles_url(officer), {"roles": [Role.SUPERVISOR, Role.FRONTLINE_OFFICER]})
    assert response.status_code == 302 and response["Location"] == detail_url(officer)
    page = text_of(client.get(detail_url(officer)))
    assert "Frontline officer, Supervisor" in facts(page)
    assert "roles are saved" in page
    rows = history_rows(page)
    assert "Ada Admin" in rows[0]
    assert "Roles: Frontline officer → Frontline officer, Supervisor" in rows[0]
    assert title(page) == "Member of staff · Case screening"  # no name


def test_the_members_page_links_what_applies(client_for, admin, officer):
    client = client_for(admin)
    page = text_of(client.get(detail_url(officer)))
    assert f"/staff/{officer.pk}/deactivate/" in page and roles_url(officer) in page
    assert f"/staff/{officer.pk}/mfa-reset/" not in page  # no device to reset
    assert f"/staff/{officer.pk}/unlock" not in page  # not paused
    AccessFailureLog.objects.create(username=officer.username, user_agent="x", locked_out=True)
    TOTPDevice.objects.create(user=officer, name="app", confirmed=True)
    page = text_of(client.get(detail_url(officer)))
    assert f"/staff/{officer.pk}/mfa-reset/" in page and f"/staff/{officer.pk}/unlock" in page
    # Lifting the pause from here comes back here, and the history says who did it.
    response = client.post(f"/staff/{officer.pk}/unlock", {"back": "member"})
    assert response.status_code == 302 and response["Location"] == detail_url(officer)
    assert "Sign-in pause lifted" in history_rows(text_of(client.get(detail_url(officer))))[0]


def test_an_administrators_own_page_offers_no_self_harm(client_for, admin):
    client = client_for(admin)
    page = text_of(client.get(detail_url(admin)))
    assert "This is your own account" in page and roles_url(admin) not in page
    response = client.post(roles_url(admin), {"roles": [Role.SUPERVISOR]})
    assert response.status_code == 400
    assert "You cannot remove your own administrator role" in text_of(response)
    assert admin.groups.filter(name=Role.AGENCY_ADMIN).exists()
    response = client.post(link_url(admin))
    assert response.status_code == 400 and admin.has_usable_password()
    assert client.get(STAFF).status_code == 200  # still signed in, still an administrator


def test_changing_roles_cannot_give_a_role_outside_the_agencys_kind(client_for, admin, officer):
    response = client_for(admin).post(roles_url(officer), {"roles": [Role.PROVIDER_STAFF]})
    assert response.status_code == 400
    assert "Select a valid choice" in text_of(response)
    assert set(officer.groups.values_list("name", flat=True)) == {Role.FRONTLINE_OFFICER}


def test_a_new_link_for_a_member_who_forgot_their_password(client_for, admin, officer):
    members_session = Client()
    members_session.force_login(officer)
    client = client_for(admin)
    confirm = text_of(client.get(link_url(officer)))
    assert "their current password stops working" in confirm
    response = client.post(link_url(officer))
    assert response.status_code == 200
    link = set_password_link_in(text_of(response))
    officer.refresh_from_db()
    assert not officer.check_password(PASSWORD)
    assert members_session.get("/").status_code == 302  # signed out everywhere
    browser = Client()
    token_free = browser.get(link)["Location"]
    browser.post(token_free, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    officer.refresh_from_db()
    assert officer.check_password(NEW_PASSWORD)
    rows = history_rows(text_of(client.get(detail_url(officer))))
    assert "Password set with a one-time link" in rows[0]
    assert "Set-password link made" in rows[1] and "Ada Admin" in rows[1]


def test_deactivate_then_reactivate_from_the_members_page(client_for, admin, officer):
    client = client_for(admin)
    link = staff_password_link_make(member=officer, by=admin)
    client.post(f"/staff/{officer.pk}/deactivate/")
    page = text_of(client.get(detail_url(officer)))
    assert "Reactivate the account" in page and roles_url(officer) not in page
    assert client.get(reactivate_url(officer)).status_code == 302  # a GET changes nothing
    officer.refresh_from_db()
    assert not officer.is_active
    response = client.post(reactivate_url(officer))
    assert response.status_code == 302 and response["Location"] == detail_url(officer)
    officer.refresh_from_db()
    assert officer.is_active
    rows = history_rows(text_of(client.get(detail_url(officer))))
    assert "Active: No → Yes" in rows[0] and "Active: Yes → No" in rows[1]
    # A link made before the deactivation stays dead.
    address = f"/accounts/set-password/{link.uidb64}/{link.token}/"
    assert "This link no longer works" in text_of(Client().get(address))


def test_no_password_or_link_appears_in_the_members_page_or_history(client_for, admin):
    client = client_for(admin)
    link = set_password_link_in(add_member(client, email="nova@example.org"))
    member = User.objects.get(username="nova.reed")
    page = text_of(client.get(detail_url(member)))
    token = link.split("/")[-2]
    assert token not in page and member.password not in page


def test_sending_the_add_form_again_leads_to_the_member_added(client_for, admin):
    client = client_for(admin)
    form_page = text_of(client.get(NEW))
    request_id = re.search(r'name="request_id" value="([^"]+)"', form_page).group(1)
    data = {
        "request_id": request_id,
        "username": "nova.reed",
        "first_name": "Nova",
        "roles": [Role.SOCIAL_WORKER],
    }
    assert client.post(NEW, data).status_code == 200  # the link, once
    member = User.objects.get(username="nova.reed")
    again = client.post(NEW, data)  # a reload of that page
    assert again.status_code == 302 and again["Location"] == detail_url(member)
    page = text_of(client.get(detail_url(member)))
    assert "That form was already sent" in page
    assert User.objects.filter(username__iexact="nova.reed").count() == 1
    assert len(mail.outbox) == 0
    # Another administrator's session knows nothing of it: same username, a plain refusal.
    other = client_for(UserFactory(agency=admin.agency, role=Role.AGENCY_ADMIN))
    response = other.post(NEW, data)
    assert response.status_code == 400 and "That username is taken" in text_of(response)


def test_the_access_log_names_the_member_added_and_never_the_link(client_for, admin):
    link = set_password_link_in(add_member(client_for(admin)))
    member = User.objects.get(username="nova.reed")
    entry = AccessLogEntry.objects.get(route="screening:staff-new")
    assert (entry.user, entry.object_type, entry.object_ref) == (admin, "staff", str(member.pk))
    Client().get(link)
    token = link.split("/")[-2]
    for entry in AccessLogEntry.objects.all():
        assert token not in " ".join(str(value) for value in vars(entry).values())


@pytest.mark.parametrize(
    "url",
    [
        "/accounts/password_reset/",
        "/accounts/password_reset/done/",
        "/accounts/reset/MQ/set-password/",
        "/accounts/reset/done/",
    ],
)
def test_there_is_no_self_service_reset_the_administrator_makes_a_link(client, officer, url):
    officer.email = "officer@example.org"
    officer.save()
    page = text_of(client.get(url))
    assert "Ask an administrator of your agency for a set-password link" in page
    response = client.post(url, {"email": "officer@example.org"})
    assert response.status_code == 405
    assert mail.outbox == []
    officer.refresh_from_db()
    assert officer.check_password(PASSWORD)


def test_the_sign_in_page_says_where_to_turn_for_a_forgotten_password(client):
    assert 'href="/accounts/password_reset/">Forgotten your password?' in text_of(
        client.get("/accounts/login/")
    )
