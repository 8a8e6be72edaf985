"""The second sign-in step as people meet it: supervisors and agency administrators reach no
case page before entering a code (setting up an app first if they have none), others may
choose it, the API refuses an unverified session, and an agency administrator resets a
member's devices. Codes are computed from the device's key, never mocked. All people are
fictional."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.models import AccessLogEntry
from screening import services
from screening.roles import Role
from screening.services.mfa import mfa_status
from tests.api.helpers import assert_problem, client_for
from tests.auth import PASSWORD, sign_in, totp_code, totp_code_unused, totp_device_confirmed
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

VERIFY = "/accounts/mfa/verify/"
SETUP = "/accounts/mfa/setup/"


def password_only(user) -> Client:
    """Signed in through the sign-in form with the password, and nothing more."""
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def case_url(case) -> str:
    return f"/cases/{case.reference}/"


def reset_url(member) -> str:
    return reverse("screening:staff-mfa-reset", kwargs={"member_id": member.pk})


def key_on_page(html: str) -> bytes:
    from base64 import b32decode

    key = re.search(r'<code class="mfa-key" id="mfa-key">([A-Z2-7 ]+)</code>', html).group(1)
    return b32decode(key.replace(" ", ""))


# --- who is asked, and where they may go before ---------------------------------------------


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.AGENCY_ADMIN])
def test_a_required_role_with_only_a_password_reaches_no_page_but_the_code_page(agency, case, role):
    user = UserFactory(agency=agency, role=role)
    totp_device_confirmed(user)
    client = password_only(user)

    response = client.get(case_url(case))

    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next=%2Fcases%2F{case.reference}%2F"
    for url in ("/", "/cases/agency/", "/referrals/queue/", "/account/api-tokens/"):
        assert client.get(url)["Location"].startswith(VERIFY), url
    assert client.get("/accounts/mfa/")["Location"].startswith(VERIFY)  # the account page too
    assert client.get(VERIFY).status_code == 200


def test_the_code_page_with_a_real_code_lets_a_supervisor_on_to_the_case(supervisor, case):
    device = totp_device_confirmed(supervisor)
    client = password_only(supervisor)
    session_before = client.cookies["sessionid"].value

    response = client.post(VERIFY, {"code": totp_code(device), "next": case_url(case)})

    assert response.status_code == 302 and response["Location"] == case_url(case)
    assert client.cookies["sessionid"].value != session_before  # a new session id
    assert client.get(case_url(case)).status_code == 200


def test_a_wrong_code_is_a_clear_error_and_recorded_as_a_failed_sign_in(supervisor, case):
    device = totp_device_confirmed(supervisor)
    client = password_only(supervisor)
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"

    response = client.post(VERIFY, {"code": wrong})

    assert response.status_code == 400
    page = response.content.decode()
    assert "That code did not work." in page
    assert 'class="error-summary"' in page or "There is a problem" in page
    entry = AccessLogEntry.objects.get(route="mfa:verify")
    assert entry.outcome == AccessLogEntry.Outcome.UNAUTHENTICATED
    assert entry.user_id == supervisor.pk
    assert wrong not in str(entry.__dict__)
    assert client.get(case_url(case)).status_code == 302  # still not through


def test_repeated_wrong_codes_are_throttled_even_for_the_right_code(supervisor):
    device = totp_device_confirmed(supervisor)
    client = password_only(supervisor)
    client.post(VERIFY, {"code": f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"})

    response = client.post(VERIFY, {"code": totp_code(device)})

    assert response.status_code == 400
    assert "Too many wrong codes in a row. Wait" in response.content.decode()


def test_a_backup_code_signs_in_once(supervisor, case):
    totp_device_confirmed(supervisor)
    codes = services_backup_codes(supervisor)
    first = password_only(supervisor)
    assert first.post(VERIFY, {"code": codes[0]}).status_code == 302
    assert first.get(case_url(case)).status_code == 200

    second = password_only(supervisor)
    response = second.post(VERIFY, {"code": codes[0]})
    assert response.status_code == 400
    assert "That code did not work." in response.content.decode()


def services_backup_codes(user) -> list[str]:
    from screening.services.mfa import mfa_backup_codes_regenerate

    return mfa_backup_codes_regenerate(user=user)


def test_next_never_leaves_the_site(supervisor):
    device = totp_device_confirmed(supervisor)
    client = password_only(supervisor)
    response = client.post(VERIFY, {"code": totp_code(device), "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_before_the_code_a_person_may_still_sign_out_and_quick_exit(supervisor):
    totp_device_confirmed(supervisor)
    client = password_only(supervisor)
    assert client.post("/quick-exit").status_code == 302
    assert client.get("/")["Location"].startswith("/accounts/login/")  # signed out

    client = password_only(supervisor)
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/")["Location"].startswith("/accounts/login/")


def test_other_roles_are_not_asked_unless_they_chose_it(officer, case):
    client = password_only(officer)
    assert client.get(case_url(case)).status_code == 200


def test_the_required_roles_are_a_setting(settings, supervisor, case):
    settings.MFA_REQUIRED_ROLES = ["frontline_officer"]
    assert password_only(supervisor).get("/cases/agency/").status_code == 200


# --- setting up an app -----------------------------------------------------------------------


def test_a_supervisor_without_an_app_sets_one_up_then_sees_backup_codes_once(supervisor, case):
    client = password_only(supervisor)
    assert client.get(case_url(case))["Location"].startswith(VERIFY)
    assert client.get(VERIFY + f"?next={case_url(case)}")["Location"].startswith(SETUP)

    setup = client.get(SETUP)
    html = setup.content.decode()
    assert setup.status_code == 200
    assert '<svg viewBox="' in html and 'class="mfa-qr"' in html
    assert "style=" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]  # CSP: no inline style
    assert "data:" not in html  # drawn inline, no image URL
    device = TOTPDevice.objects.get(user=supervisor, confirmed=False)
    assert key_on_page(html) == device.bin_key  # the key for typing matches the QR's

    done = client.post(SETUP, {"code": totp_code(device), "next": case_url(case)})

    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]{5}-[a-z2-7]{5})</code></li>", done.content.decode())
    assert len(codes) == 10
    assert f'href="{case_url(case)}"' in done.content.decode()
    assert client.get(case_url(case)).status_code == 200  # verified by setting up
    assert mfa_status(user=supervisor).backup_codes_left == 10


def test_a_wrong_code_at_set_up_is_a_form_error(supervisor):
    client = password_only(supervisor)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=supervisor)
    response = client.post(SETUP, {"code": f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"})
    assert response.status_code == 400
    assert "That code did not work." in response.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed


def test_someone_with_an_app_cannot_set_up_another_before_the_code(supervisor):
    totp_device_confirmed(supervisor)
    client = password_only(supervisor)
    assert client.get(SETUP)["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=supervisor).count() == 1


def test_an_officer_may_choose_it_and_is_then_asked_at_each_sign_in(officer, case):
    client = sign_in(Client(), officer)
    assert "Set up two-step sign-in" in client.get("/accounts/mfa/").content.decode()
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=officer)
    assert client.post(SETUP, {"code": totp_code(device)}).status_code == 200

    later = password_only(officer)
    assert later.get(case_url(case))["Location"].startswith(VERIFY)
    assert later.post(VERIFY, {"code": totp_code_unused(device)}).status_code == 302
    assert later.get(case_url(case)).status_code == 200


def test_new_backup_codes_from_the_account_page(supervisor):
    client = sign_in(Client(), supervisor)
    old = services_backup_codes(supervisor)
    assert "Backup codes left" in client.get("/accounts/mfa/").content.decode()

    response = client.post("/accounts/mfa/backup-codes/")

    new = re.findall(r"<li><code>([a-z2-7]{5}-[a-z2-7]{5})</code></li>", response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)


# --- the API ----------------------------------------------------------------------------------


def test_an_unverified_session_gets_401_problem_from_the_api_and_a_token_still_works(
    supervisor, case
):
    totp_device_confirmed(supervisor)
    client = password_only(supervisor)
    body = assert_problem(client.get("/api/v1/cases/"), 401)
    assert "Finish signing in" in body["detail"]

    assert client_for(supervisor).get("/api/v1/cases/").status_code == 200
    assert sign_in(Client(), supervisor).get("/api/v1/cases/").status_code == 200


# --- an agency administrator's reset ----------------------------------------------------------


@pytest.fixture
def agency_admin(agency):
    return UserFactory(agency=agency, role=Role.AGENCY_ADMIN, first_name="Ada", last_name="Admin")


def test_the_reset_page_sends_anonymous_visitors_to_sign_in(client, supervisor):
    response = client.get(reset_url(supervisor))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_admin_of_another_agency_gets_404_and_nothing_changes(other_agency, supervisor):
    device = totp_device_confirmed(supervisor)
    outsider_admin = UserFactory(agency=other_agency, role=Role.AGENCY_ADMIN)
    client = sign_in(Client(), outsider_admin)
    assert client.get(reset_url(supervisor)).status_code == 404
    assert client.post(reset_url(supervisor)).status_code == 404
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_a_colleague_without_the_admin_role_gets_403(agency, supervisor):
    device = totp_device_confirmed(supervisor)
    colleague = UserFactory(agency=agency, role=Role.SUPERVISOR)
    client = sign_in(Client(), colleague)
    assert client.get(reset_url(supervisor)).status_code == 403
    assert client.post(reset_url(supervisor)).status_code == 403
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_an_agency_admin_resets_a_member_who_must_then_set_up_again(agency_admin, supervisor, case):
    member_session = sign_in(Client(), supervisor)
    assert member_session.get(case_url(case)).status_code == 200
    admin = sign_in(Client(), agency_admin)
    page = admin.get(reset_url(supervisor)).content.decode()
    assert "Set up" in page and "Never" in page

    response = admin.post(reset_url(supervisor))

    assert response.status_code == 302 and response["Location"] == reset_url(supervisor)
    after = admin.get(reset_url(supervisor)).content.decode()
    assert "Not set up" in after and "by Ada Admin" in after
    assert not TOTPDevice.objects.filter(user=supervisor).exists()
    # The member's session verified with the old app is verified no more.
    assert member_session.get(case_url(case))["Location"].startswith(VERIFY)
    assert member_session.get(VERIFY)["Location"].startswith(SETUP)
    entry = AccessLogEntry.objects.get(route="screening:staff-mfa-reset", method="POST")
    assert (entry.user_id, entry.object_type, entry.object_ref) == (
        agency_admin.pk,
        "staff",
        str(supervisor.pk),
    )


def test_the_reset_page_needs_its_csrf_token(agency_admin, supervisor):
    device = totp_device_confirmed(supervisor)
    client = sign_in(Client(enforce_csrf_checks=True), agency_admin)
    assert client.post(reset_url(supervisor)).status_code == 403
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_tokens_of_a_required_role_made_before_mfa_keep_working(supervisor):
    created = services.api_token_create(user=supervisor, name="crm", days=30)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {created.plaintext}")
    assert api.get("/api/v1/cases/").status_code == 200
