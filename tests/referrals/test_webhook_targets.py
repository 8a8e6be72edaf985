"""Webhook targets (referrals/webhook_targets.py): with the production check on, a provider's
webhook must be https and its host must resolve to public addresses only, when the provider is
saved and again when a referral is sent; the connection goes to the address that was checked.

Name resolution is faked (socket.getaddrinfo answers from a table) and no traffic leaves this
machine: a connection to a public address is intercepted (socket.create_connection), and real
connections go to receivers on 127.0.0.1 only, with the check off as in local mode."""

import datetime
import ipaddress
import logging
import os
import socket
import ssl
import subprocess
import sys

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.exceptions import ValidationError

from referrals.directory import ProviderEntry
from referrals.errors import DeliveryRetry
from referrals.models import ReferralStatus, ServiceProvider
from referrals.services import referral_approve, referral_dispatch
from referrals.services.seeds import service_provider_ensure
from referrals.webhook_targets import address_refusal, webhook_url_problem
from tests.config.test_settings_profiles import CONFIG_VARS, PRODUCTION_ENV, ROOT
from tests.referrals.conftest import SECRET, make_provider, record_referral_consent
from tests.referrals.receiver import start_receiver

pytestmark = pytest.mark.django_db

REAL_GETADDRINFO = socket.getaddrinfo
# A path token of the kind some providers put in their URL: it must never reach a message.
HOOK = "https://hooks.provider.example/in/tok-fictional-77c1"
PUBLIC_V4, PUBLIC_V6 = "93.184.215.14", "2606:4700:4700::1111"

REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("::1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.5.4", "private"),
    ("192.168.0.10", "private"),
    ("fd12:3456::1", "private"),
    ("192.0.2.7", "private"),  # documentation range
    ("2001:db8::7", "private"),
    ("169.254.169.254", "link-local"),  # cloud metadata
    ("fe80::1", "link-local"),
    ("224.0.0.251", "multicast"),
    ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"),  # noqa: S104 - an address under test, nothing binds to it
    ("::", "unspecified"),
    ("4000::1", "reserved"),
    ("fec0::1", "site-local"),
    ("100.64.0.1", "non-public"),  # carrier-grade NAT
    # IPv4 inside IPv6 is judged as the IPv4 address it reaches.
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:10.0.0.1", "private"),
    ("::ffff:169.254.169.254", "link-local"),
    ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of the metadata address
    ("2002:7f00:1::1", "loopback"),  # 6to4 of 127.0.0.1
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "private"),  # Teredo
]


def resolving(monkeypatch, table: dict[str, list[list[str]]]) -> list[str]:
    """Make getaddrinfo answer each name in `table` with its next list of addresses (the last
    list repeats); IP literals resolve as themselves; any other name does not resolve.
    Returns the names looked up, in order."""
    asked: list[str] = []

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            return REAL_GETADDRINFO(host, port, family, type, proto, flags)
        asked.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        answers = table[host]
        addresses = answers.pop(0) if len(answers) > 1 else answers[0]
        results = []
        for address in addresses:
            if ":" in address:
                results.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                results.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return results

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.fixture
def no_outside_traffic(monkeypatch):
    """Connections to anything but 127.0.0.1 are recorded and refused, never made."""
    attempts: list[tuple[str, int]] = []
    real = socket.create_connection

    def create_connection(address, *args, **kwargs):
        if address[0] == "127.0.0.1":
            return real(address, *args, **kwargs)
        attempts.append(address)
        raise ConnectionRefusedError("intercepted by the test")

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return attempts


@pytest.fixture
def production_check(settings):
    settings.REFERRAL_WEBHOOK_REQUIRE_PUBLIC_HTTPS = True


@pytest.fixture
def approved(submitted, officer, supervisor, referral_factory):
    """An approved referral whose provider's webhook is HOOK; dispatch it to send it."""

    def make(url: str = HOOK):
        provider = make_provider(slug="hooked", webhook_url=url)
        consent = record_referral_consent(submitted.case, officer, service_type="shelter")
        referral = referral_factory(provider=provider, consent=consent)
        referral_approve(referral_id=referral.pk, by=supervisor)
        return referral

    return make


# --- the rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(("address", "kind"), REFUSED)
def test_each_kind_of_non_public_address_is_refused_by_name(address, kind):
    assert address_refusal(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize(
    "address", [PUBLIC_V4, PUBLIC_V6, "::ffff:93.184.215.14", "64:ff9b::5db8:d70e"]
)
def test_public_addresses_are_allowed_ipv4_inside_ipv6_included(address):
    assert address_refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(("address", "kind"), REFUSED)
def test_a_host_resolving_to_a_non_public_address_is_refused_when_saved(
    production_check, monkeypatch, address, kind
):
    resolving(monkeypatch, {"hooks.provider.example": [[address]]})
    problem = webhook_url_problem(HOOK)
    assert problem == f"The webhook host resolves to a {kind} address."
    assert "tok-fictional" not in problem and "provider.example" not in problem


def test_every_address_is_checked_not_only_the_first(production_check, monkeypatch):
    resolving(monkeypatch, {"hooks.provider.example": [[PUBLIC_V4, PUBLIC_V6, "10.0.0.9"]]})
    assert webhook_url_problem(HOOK) == "The webhook host resolves to a private address."


def test_a_host_resolving_to_public_addresses_only_is_accepted(production_check, monkeypatch):
    resolving(monkeypatch, {"hooks.provider.example": [[PUBLIC_V4, PUBLIC_V6]]})
    assert webhook_url_problem(HOOK) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://hooks.provider.example/in", "The webhook URL must use https."),
        ("ftp://hooks.provider.example/in", "The webhook URL is not http(s)."),
        ("https://user:pw@hooks.provider.example/in", "must not carry a user name or password"),
        ("https://[::1]:8443/in", "The webhook host resolves to a loopback address."),
        ("https://unknown.provider.example/in", "The webhook host name does not resolve."),
    ],
)
def test_urls_the_production_check_refuses(production_check, monkeypatch, url, problem):
    resolving(monkeypatch, {"hooks.provider.example": [[PUBLIC_V4]]})
    assert problem in webhook_url_problem(url)


@pytest.mark.parametrize("host", ["localhost", "127.1", "0x7f000001", "2130706433", "[::1]"])
def test_other_spellings_of_this_machine_are_refused_too(production_check, host):
    # The real resolver, which reads these without asking any DNS server.
    problem = webhook_url_problem(f"https://{host}/in")
    assert problem == "The webhook host resolves to a loopback address."


def test_with_the_check_off_a_local_receiver_is_fine(settings):
    settings.REFERRAL_WEBHOOK_REQUIRE_PUBLIC_HTTPS = False
    assert webhook_url_problem("http://127.0.0.1:8765/referrals") is None
    assert webhook_url_problem("ftp://127.0.0.1/referrals") == "The webhook URL is not http(s)."


@pytest.mark.parametrize(("profile", "expected"), [("production", "True"), ("local", "False")])
def test_production_turns_the_check_on_and_local_mode_leaves_it_off(profile, expected):
    env = {key: value for key, value in os.environ.items() if key not in CONFIG_VARS}
    env["DJANGO_SETTINGS_MODULE"] = f"config.settings.{profile}"
    env.pop("REFERRAL_WEBHOOK_REQUIRE_PUBLIC_HTTPS", None)
    if profile == "production":
        env.update(PRODUCTION_ENV)
    code = "from django.conf import settings; print(settings.REFERRAL_WEBHOOK_REQUIRE_PUBLIC_HTTPS)"
    result = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


# --- when a provider is saved ---------------------------------------------------------------


def _entry(url: str) -> ProviderEntry:
    return ProviderEntry.model_validate(
        {
            "slug": "riverside-shelter",
            "name": "Riverside Shelter",
            "service_types": ["shelter"],
            "regions": ["national"],
            "channel": {"kind": "webhook", "url": url},
        }
    )


def test_the_directory_loader_refuses_a_private_target_and_saves_nothing(
    production_check, monkeypatch
):
    resolving(monkeypatch, {"hooks.provider.example": [["10.20.30.40"]]})
    with pytest.raises(ValueError, match="provider riverside-shelter: webhook_url: ") as error:
        service_provider_ensure(entry=_entry(HOOK))
    assert "private address" in str(error.value)
    assert "tok-fictional" not in str(error.value)
    assert not ServiceProvider.objects.exists()


def test_the_directory_loader_refuses_plain_http_in_production(production_check, monkeypatch):
    resolving(monkeypatch, {"hooks.provider.example": [[PUBLIC_V4]]})
    with pytest.raises(ValueError, match="must use https"):
        service_provider_ensure(entry=_entry("http://hooks.provider.example/in"))
    assert service_provider_ensure(entry=_entry(HOOK)).action == "created"


def test_the_model_clean_applies_the_same_rule(production_check, monkeypatch):
    resolving(monkeypatch, {"hooks.provider.example": [["169.254.169.254"]]})
    provider = ServiceProvider(
        slug="p",
        name="P",
        service_types=["shelter"],
        regions=["national"],
        channel="webhook",
        webhook_url=HOOK,
        webhook_secret=SECRET,
    )
    with pytest.raises(ValidationError) as error:
        provider.full_clean()
    assert error.value.message_dict["webhook_url"] == [
        "The webhook host resolves to a link-local address."
    ]


# --- when a referral is sent ----------------------------------------------------------------


def test_a_target_that_turned_private_since_it_was_saved_fails_without_a_connection(
    production_check, monkeypatch, approved, no_outside_traffic, caplog
):
    referral = approved()  # saved when the name resolved to a public address
    resolving(monkeypatch, {"hooks.provider.example": [["10.0.0.7"]]})
    with caplog.at_level(logging.DEBUG):
        outcome = referral_dispatch(referral_id=referral.pk)
    referral.refresh_from_db()
    assert outcome.status == "failed"
    assert referral.status == ReferralStatus.FAILED
    assert referral.last_delivery_error == (
        "attempt 1: webhook target refused: the webhook host resolves to a private address; "
        "not retried"
    )
    assert no_outside_traffic == []
    notes = " ".join(event.note for event in referral.events.all())
    for text in (notes, referral.last_delivery_error, caplog.text):
        assert "tok-fictional" not in text and "hooks.provider.example" not in text


def test_the_connection_goes_to_the_checked_address_even_if_dns_changes_after_the_check(
    production_check, monkeypatch, approved, no_outside_traffic
):
    referral = approved()
    # Rebinding: the first answer is public, every later one points at this machine.
    asked = resolving(monkeypatch, {"hooks.provider.example": [[PUBLIC_V4], ["127.0.0.1"]]})
    with pytest.raises(DeliveryRetry):
        referral_dispatch(referral_id=referral.pk)
    assert asked == ["hooks.provider.example"]  # resolved once, for the check
    assert no_outside_traffic == [(PUBLIC_V4, 443)]  # and connected to what was checked
    referral.refresh_from_db()
    assert referral.last_delivery_error == "network error (ConnectionRefusedError)"


def test_the_production_check_refuses_the_local_test_receiver(production_check, approved, receiver):
    referral = approved(receiver.url)
    assert referral_dispatch(referral_id=referral.pk).status == "failed"
    referral.refresh_from_db()
    assert "the webhook URL must use https" in referral.last_delivery_error
    assert receiver.attempts == 0


def test_with_the_check_off_the_name_is_resolved_once_and_kept_in_the_host_header(
    settings, monkeypatch, approved, receiver
):
    settings.REFERRAL_WEBHOOK_REQUIRE_PUBLIC_HTTPS = False
    port = receiver.url.split(":")[2].split("/")[0]
    # After the first answer the name moves to 127.0.0.2, where nothing listens.
    asked = resolving(monkeypatch, {"receiver.test": [["127.0.0.1"], ["127.0.0.2"]]})
    referral = approved(f"http://receiver.test:{port}/referrals?channel=7")
    assert referral_dispatch(referral_id=referral.pk).status == "sent"
    [delivery] = receiver.deliveries
    assert delivery.host == f"receiver.test:{port}"
    assert delivery.path == "/referrals?channel=7"
    assert delivery.signature_ok
    assert asked == ["receiver.test"]


def test_a_redirect_is_not_followed(approved, receiver):
    # Followed, it would reach a target that was never checked.
    receiver.fail_first, receiver.fail_status = 1, 302
    receiver.redirect_to = receiver.url + "/elsewhere"
    referral = approved(receiver.url)
    assert referral_dispatch(referral_id=referral.pk).status == "failed"
    referral.refresh_from_db()
    assert referral.last_delivery_error == "attempt 1: HTTP 302; not retried"
    assert receiver.attempts == 1


# --- https to the checked address: SNI and the certificate use the URL's name ----------------


def _certificates(tmp_path, name: str) -> tuple[str, ssl.SSLContext]:
    """A throwaway CA (its file path returned) and a server context for `name` it signed."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test-only CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    return str(ca_file), server


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch):
    """An https receiver on 127.0.0.1 with a certificate for `name`, trusted through
    SSL_CERT_FILE; records the server names clients asked for (SNI)."""
    servers = []

    def start(name: str):
        ca_file, context = _certificates(tmp_path, name)
        monkeypatch.setenv("SSL_CERT_FILE", ca_file)
        asked_names: list[str] = []
        context.sni_callback = lambda sock, server_name, ctx: asked_names.append(server_name)
        receiver, server = start_receiver(SECRET, tls=context)
        servers.append(server)
        return receiver, asked_names

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_https_reaches_the_checked_address_with_the_urls_name_for_sni_and_the_certificate(
    settings, monkeypatch, approved, tls_receiver
):
    settings.REFERRAL_WEBHOOK_REQUIRE_PUBLIC_HTTPS = False  # the receiver is on loopback
    receiver, asked_names = tls_receiver("hooks.provider.test")
    port = receiver.url.split(":")[2].split("/")[0]
    resolving(monkeypatch, {"hooks.provider.test": [["127.0.0.1"]]})
    referral = approved(f"https://hooks.provider.test:{port}/referrals")
    assert referral_dispatch(referral_id=referral.pk).status == "sent"
    [delivery] = receiver.deliveries
    assert delivery.signature_ok and delivery.host == f"hooks.provider.test:{port}"
    assert asked_names == ["hooks.provider.test"]


def test_a_certificate_for_another_name_is_not_accepted(
    settings, monkeypatch, approved, tls_receiver
):
    settings.REFERRAL_WEBHOOK_REQUIRE_PUBLIC_HTTPS = False
    receiver, _ = tls_receiver("someone-else.test")
    port = receiver.url.split(":")[2].split("/")[0]
    resolving(monkeypatch, {"hooks.provider.test": [["127.0.0.1"]]})
    referral = approved(f"https://hooks.provider.test:{port}/referrals")
    with pytest.raises(DeliveryRetry):
        referral_dispatch(referral_id=referral.pk)
    referral.refresh_from_db()
    assert referral.last_delivery_error == "network error (SSLCertVerificationError)"
    assert receiver.deliveries == []
