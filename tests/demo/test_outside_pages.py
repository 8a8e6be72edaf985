"""The embedded demo's stand-ins for the outside world: the mailbox page (mail the filebased
backend wrote), the signed webhook receiver and its page."""

import http.client
import json
import threading
import time

import pytest
from django.core import mail
from django.urls import reverse

from demo.receiver import receiver_server, receiver_state
from referrals.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from screening.roles import Role
from tests.auth import signed_in_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
SECRET = "demo-receiver-test-secret"


@pytest.fixture(autouse=True)
def _folders(settings, tmp_path):
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    settings.DEMO_WEBHOOK_DIR = tmp_path / "webhooks"
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"


@pytest.fixture
def receiver(settings):
    state = receiver_state(quiet=True, secrets={"harbour-test-provider": SECRET})
    state.fail_first = {"flaky-provider"}
    state.secrets["flaky-provider"] = SECRET
    server = receiver_server(state, port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server.server_port
    server.shutdown()
    server.server_close()


def post(port: int, slug: str, body: dict, *, key: str, secret: str = SECRET) -> int:
    raw = json.dumps(body).encode()
    timestamp = str(int(time.time()))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request(
        "POST",
        f"/{slug}",
        body=raw,
        headers={
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(secret=secret, timestamp=timestamp, body=raw),
            IDEMPOTENCY_HEADER: key,
            "Content-Type": "application/json",
        },
    )
    status = connection.getresponse().status
    connection.close()
    return status


@pytest.mark.parametrize("name", ["demo:mailbox", "demo:webhooks"])
def test_anonymous_visitors_are_sent_to_sign_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_mailbox_shows_what_the_service_sent_newest_first(django_assert_num_queries):
    mail.send_mail("Referral 1a2b3c4d (shelter)", "Sign in to read it.", None, ["a@x.example"])
    time.sleep(0.01)
    mail.send_mail("Referral 9f8e7d6c (medical)", "Sign in, please.", None, ["b@y.example"])
    client = signed_in_client(UserFactory(role=Role.FRONTLINE_OFFICER))
    response = client.get(reverse("demo:mailbox"))  # the session's first read
    # The frame every page pays (session, user, roles, menu); the mail is files, not rows.
    with django_assert_num_queries(6):
        response = client.get(reverse("demo:mailbox"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("Referral 9f8e7d6c (medical)") < html.index("Referral 1a2b3c4d (shelter)")
    assert "To b@y.example" in html and "Sign in, please." in html


def test_an_empty_mailbox_says_how_to_fill_it():
    client = signed_in_client(UserFactory(role=Role.PROVIDER_STAFF))
    assert "No mail yet." in client.get(reverse("demo:mailbox")).content.decode()


def test_the_receiver_verifies_signatures_and_the_page_shows_each_delivery(receiver):
    assert post(receiver, "harbour-test-provider", {"referral": "k-1"}, key="k-1") == 200
    assert post(receiver, "harbour-test-provider", {"x": 1}, key="k-2", secret="wrong") == 401
    assert post(receiver, "nobody-here", {"x": 1}, key="k-3") == 404
    page = signed_in_client(UserFactory(role=Role.SUPERVISOR)).get(reverse("demo:webhooks"))
    html = page.content.decode()
    assert html.count('class="case-card"') == 2  # the unknown address is not recorded
    assert "harbour-test-provider: answered 200" in html and "Signature verified" in html
    assert "harbour-test-provider: answered 401" in html and "did not verify" in html
    assert "&quot;referral&quot;: &quot;k-1&quot;" in html


def test_a_fail_first_provider_answers_503_once_per_referral(receiver):
    assert post(receiver, "flaky-provider", {}, key="k-1") == 503
    assert post(receiver, "flaky-provider", {}, key="k-1") == 200
    assert post(receiver, "flaky-provider", {}, key="k-2") == 503
