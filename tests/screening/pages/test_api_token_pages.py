"""The API tokens page: the signed-in person's own tokens, creating one (the secret shown once,
on the response to the form itself, never cached, never in a URL) and revoking one."""

import re

import pytest
from django.db import connection
from django.test import Client

from config.models import ApiToken
from screening import services
from tests.auth import sign_in
from tests.concurrency import run_together

pytestmark = pytest.mark.django_db

URL = "/account/api-tokens/"
SECRET_SHOWN = re.compile(r'value="([0-9a-f]{12}\.[A-Za-z0-9_-]+)"')


def revoke_url(prefix: str) -> str:
    return f"{URL}{prefix}/revoke"


def _login_redirect(response, url: str) -> bool:
    return response.status_code == 302 and response["Location"].startswith(
        f"/accounts/login/?next={url}"
    )


def _request_id(page: str) -> str:
    return re.search(r'name="request_id" value="([^"]+)"', page).group(1)


def _create(client: Client, *, name: str = "contact-centre", days: str = "90"):
    request_id = _request_id(client.get(URL).content.decode())
    return client.post(URL, {"name": name, "days": days, "request_id": request_id})


def test_the_pages_need_a_signed_in_person(client, officer):
    token = services.api_token_create(user=officer, name="crm").token
    assert _login_redirect(client.get(URL), URL)
    assert _login_redirect(client.post(URL, {"name": "crm", "days": "9"}), URL)
    assert _login_redirect(client.get(revoke_url(token.prefix)), revoke_url(token.prefix))
    assert _login_redirect(client.post(revoke_url(token.prefix)), revoke_url(token.prefix))
    assert not ApiToken.objects.filter(revoked_at__isnull=False).exists()
    assert ApiToken.objects.count() == 1


def test_the_header_links_to_the_page(client_for, officer):
    page = client_for(officer).get("/").content.decode()
    assert f'href="{URL}"' in page


def test_the_page_lists_my_tokens_only_and_never_a_secret(client_for, officer, outsider):
    mine = services.api_token_create(user=officer, name="contact-centre")
    revoked = services.api_token_create(user=officer, name="old crm")
    services.api_token_revoke(user=officer, prefix=revoked.token.prefix)
    theirs = services.api_token_create(user=outsider, name="their system")

    page = client_for(officer).get(URL).content.decode()

    assert mine.token.prefix in page and "contact-centre" in page
    assert revoked.token.prefix in page and "Revoked" in page
    assert theirs.token.prefix not in page and "their system" not in page
    for created in (mine, revoked):
        assert created.plaintext.split(".")[1] not in page
        assert created.token.secret_hash not in page
    # only the active token offers revoking
    assert revoke_url(mine.token.prefix) in page
    assert revoke_url(revoked.token.prefix) not in page


@pytest.mark.parametrize("count", [2, 5])
def test_the_page_runs_a_fixed_number_of_queries(
    client_for, officer, count, django_assert_num_queries
):
    for n in range(count):
        services.api_token_create(user=officer, name=f"system {n}")
    client = client_for(officer)
    # session, user, roles (header), page rows (no COUNT: keyset pages), the session save
    # every request makes for the idle timeout (savepoint, update, release), and the
    # access-log entry
    with django_assert_num_queries(8):
        response = client.get(URL)
    assert response.content.decode().count('class="case-card"') == count


def test_creating_shows_the_secret_once_on_an_uncached_page(client_for, officer):
    client = client_for(officer)
    response = _create(client, name="contact-centre", days="30")

    assert response.status_code == 200  # rendered on the POST's response: no redirect
    page = response.content.decode()
    token = ApiToken.objects.get(user=officer)
    plaintext = SECRET_SHOWN.search(page).group(1)
    assert plaintext.startswith(f"{token.prefix}.")
    assert response["Cache-Control"] == "no-store"
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert plaintext.split(".")[1] not in title and token.prefix not in title
    assert "shown only once" in page
    assert 'for="new-token"' in page  # labelled for screen readers and keyboards
    # the token works; the list page does not show its secret again
    api = Client(headers={"Authorization": f"Bearer {plaintext}"})
    assert api.get("/api/v1/tokens/").status_code == 200
    assert plaintext.split(".")[1] not in client.get(URL).content.decode()


def test_sending_the_form_again_creates_nothing_and_shows_no_secret(client_for, officer):
    client = client_for(officer)
    request_id = _request_id(client.get(URL).content.decode())
    form = {"name": "contact-centre", "days": "90", "request_id": request_id}
    first = client.post(URL, form)
    plaintext = SECRET_SHOWN.search(first.content.decode()).group(1)

    again = client.post(URL, form)  # a reload of the page showing the secret

    assert again.status_code == 302 and again["Location"] == URL
    assert plaintext.split(".")[0] not in again["Location"]
    assert ApiToken.objects.filter(user=officer).count() == 1
    followed = client.get(again["Location"]).content.decode()
    assert plaintext.split(".")[1] not in followed
    assert "already sent" in followed and "revoke it and create a new one" in followed


def test_the_same_form_sent_from_another_session_creates_nothing_either(client_for, officer):
    """The guarantee is the database's (one token per form id and person), not the session's."""
    first_tab = client_for(officer)
    form = {
        "name": "contact-centre",
        "days": "90",
        "request_id": _request_id(first_tab.get(URL).content.decode()),
    }
    assert first_tab.post(URL, form).status_code == 200
    again = client_for(officer).post(URL, form)  # a new session: e.g. signed in again
    assert again.status_code == 302
    assert ApiToken.objects.filter(user=officer).count() == 1


def test_another_persons_form_id_does_not_block_mine(client_for, officer, outsider):
    form = {"name": "crm", "days": "9", "request_id": "same-random-id-0123456789"}
    assert client_for(officer).post(URL, form).status_code == 200
    assert client_for(outsider).post(URL, form).status_code == 200
    assert ApiToken.objects.count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.integration
def test_two_simultaneous_sendings_of_one_form_create_one_token(client_for, officer):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no race to test")
    first, second = client_for(officer), client_for(officer)
    form = {"name": "contact-centre", "days": "90", "request_id": "double-click-0123456789"}
    responses = run_together(lambda: first.post(URL, form), lambda: second.post(URL, form))
    assert sorted(response.status_code for response in responses) == [200, 302]
    shown = [SECRET_SHOWN.search(r.content.decode()) for r in responses if r.status_code == 200]
    token = ApiToken.objects.get(user=officer)
    assert shown[0].group(1).split(".")[0] == token.prefix


@pytest.mark.parametrize(
    ("name", "days", "message"),
    [("", "90", "This field is required."), ("crm", "0", "greater than or equal to 1")],
)
def test_a_bad_form_is_explained_and_creates_nothing(client_for, officer, name, days, message):
    response = _create(client_for(officer), name=name, days=days)
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page and message in page
    assert not ApiToken.objects.exists()


def test_a_form_without_its_request_id_is_refused_and_can_be_sent_again(client_for, officer):
    client = client_for(officer)
    response = client.post(URL, {"name": "crm", "days": "9"})
    assert response.status_code == 400
    assert "out of date" in response.content.decode()
    assert not ApiToken.objects.exists()
    again = client.post(
        URL, {"name": "crm", "days": "9", "request_id": _request_id(response.content.decode())}
    )
    assert again.status_code == 200
    assert ApiToken.objects.count() == 1


def test_revoking_asks_first_then_revokes(client_for, officer):
    created = services.api_token_create(user=officer, name="contact-centre")
    client = client_for(officer)

    confirm = client.get(revoke_url(created.token.prefix))
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert "csrfmiddlewaretoken" in page and 'method="post"' in page
    created.token.refresh_from_db()
    assert created.token.revoked_at is None  # looking at the question revokes nothing

    response = client.post(revoke_url(created.token.prefix))
    assert response.status_code == 302 and response["Location"] == URL
    created.token.refresh_from_db()
    assert created.token.revoked_at is not None
    assert "revoked" in client.get(URL).content.decode()
    api = Client(headers={"Authorization": f"Bearer {created.plaintext}"})
    assert api.get("/api/v1/tokens/").status_code == 401


def test_revoking_needs_the_csrf_token(officer):
    created = services.api_token_create(user=officer, name="contact-centre")
    client = sign_in(Client(enforce_csrf_checks=True), officer)
    assert client.post(revoke_url(created.token.prefix)).status_code == 403
    created.token.refresh_from_db()
    assert created.token.revoked_at is None


def test_another_persons_token_cannot_be_revoked(client_for, officer, outsider):
    theirs = services.api_token_create(user=outsider, name="their system")
    client = client_for(officer)

    assert client.get(revoke_url(theirs.token.prefix)).status_code == 404
    assert client.post(revoke_url(theirs.token.prefix)).status_code == 404
    assert client.get(revoke_url("000000000000")).status_code == 404
    theirs.token.refresh_from_db()
    assert theirs.token.revoked_at is None
