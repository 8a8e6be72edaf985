"""Kept webhook connections (referrals/webhook_targets.py): a provider that keeps its
connections open gets the next referral on the same one; a kept connection goes only to an
address checked for this send; one the server closed meanwhile costs a new connection, not
the delivery."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from referrals.services.delivery import webhook_post
from referrals.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from referrals.webhook_targets import (
    WebhookTarget,
    webhook_connection_keep,
    webhook_connection_take,
    webhook_connections_close,
)
from tests.referrals.conftest import SECRET, make_provider

pytestmark = pytest.mark.django_db


class KeepAliveReceiver(ThreadingHTTPServer):
    """HTTP/1.1 with keep-alive; counts connections and signed requests. `close_after`: the
    server drops the connection after that many answers without saying so (as an idle
    timeout does)."""

    daemon_threads = True

    def __init__(self, close_after: int = 0) -> None:
        self.connections = 0
        self.signed = 0
        self.close_after = close_after
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                receiver.connections += 1
                self.answered = 0

            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.signed += verify(
                    secret=SECRET,
                    timestamp=self.headers.get(TIMESTAMP_HEADER),
                    body=body,
                    signature=self.headers.get(SIGNATURE_HEADER),
                    now=time.time(),
                    window_seconds=300,
                )
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
                self.answered += 1
                if receiver.close_after and self.answered >= receiver.close_after:
                    self.close_connection = True

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server_address[1]}/hook"


@pytest.fixture
def keep_alive():
    webhook_connections_close()
    servers = []

    def start(**options) -> KeepAliveReceiver:
        server = KeepAliveReceiver(**options)
        servers.append(server)
        return server

    yield start
    webhook_connections_close()
    for server in servers:
        server.shutdown()
        server.server_close()


def test_sends_to_a_provider_that_keeps_connections_share_one(keep_alive):
    server = keep_alive()
    provider = make_provider(slug="kept", webhook_url=server.url)
    for number in range(3):
        assert webhook_post(provider=provider, body=b"{}", idempotency_key=f"k{number}") == 200
    assert (server.signed, server.connections) == (3, 1)


def test_a_connection_closed_by_the_server_while_kept_costs_a_new_one_not_the_send(keep_alive):
    server = keep_alive(close_after=1)
    provider = make_provider(slug="kept", webhook_url=server.url)
    for number in range(3):
        assert webhook_post(provider=provider, body=b"{}", idempotency_key=f"k{number}") == 200
    assert (server.signed, server.connections) == (3, 3)


def test_a_kept_connection_is_used_only_for_an_address_checked_for_this_send(keep_alive):
    server = keep_alive()
    port = server.server_address[1]
    checked = WebhookTarget("http", "hooks.test", port, "/hook", ("127.0.0.1",))
    connection, kept = webhook_connection_take(checked, timeout=5)
    connection.request("POST", "/hook", body=b"{}", headers={"Content-Length": "2"})
    connection.getresponse().read()
    assert not kept and connection.sock is not None
    webhook_connection_keep(checked, connection)

    # The name now resolves elsewhere: the kept connection (to 127.0.0.1) is not used.
    elsewhere = WebhookTarget("http", "hooks.test", port, "/hook", ("127.0.0.2",))
    other, kept = webhook_connection_take(elsewhere, timeout=5)
    assert not kept and other is not connection and connection.sock is None
    other.close()
