"""The provider directory in the product (/agency/providers/, issue 15): an agency's
administrators list, add and edit their own agency's providers, rotate a webhook's secret and
read a provider's change history. Anonymous, wrong agency, wrong role and the happy path on
every page and form; an administrator of agency A never changes agency B's providers."""

from __future__ import annotations

import json
import re
import time

import pytest
from django.db import connection
from django.urls import reverse

from referrals.models import Referral, ReferralStatus, ServiceProvider
from referrals.services import outbox_relay, referral_approve, referral_route_screening
from referrals.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    fingerprint_display,
    secret_fingerprint,
    sign,
)
from screening.models import Agency
from screening.roles import Role
from tests.factories import AgencyFactory, UserFactory
from tests.referrals.conftest import POSITIVE, SECRET, make_provider, record_referral_consent
from tests.referrals.pages.conftest import login_redirect

pytestmark = pytest.mark.django_db

SHELTER_FORM = {
    "name": "Lantern House",
    "service_types": ["shelter"],
    "regions": ["national"],
    "other_regions": "",
    "languages": ["en", "es"],
    "min_age": "18",
    "max_age": "",
    "genders": [],
    "exploitation_types": [],
    "accepting": "on",
    "room": "available",
    "response_due_hours": "24",
    "channel": "inbox",
    "webhook_url": "",
    "email": "",
}


@pytest.fixture
def shelter_admin(provider_agency):
    return UserFactory(agency=provider_agency, role=Role.AGENCY_ADMIN)


@pytest.fixture
def other_provider_agency():
    return AgencyFactory(name="Fictional Clinic Org", kind=Agency.Kind.SERVICE_PROVIDER)


@pytest.fixture
def other_admin(other_provider_agency):
    return UserFactory(agency=other_provider_agency, role=Role.AGENCY_ADMIN)


@pytest.fixture
def other_provider(other_provider_agency):
    return make_provider(
        slug="clinic-hook",
        name="Clinic Hook",
        agency=other_provider_agency,
        service_types=["medical"],
    )


@pytest.fixture
def hook_provider(provider_agency):
    return make_provider(
        slug="shelter-hook",
        name="Shelter Hook",
        agency=provider_agency,
        webhook_secret_fingerprint=secret_fingerprint(SECRET),
    )


def form_for(provider: ServiceProvider, **changes) -> dict:
    closed = provider.capacity == "closed"
    data = {
        "name": provider.name,
        "service_types": provider.service_types,
        "regions": provider.regions,
        "other_regions": "",
        "languages": provider.languages,
        "min_age": "" if provider.min_age is None else str(provider.min_age),
        "max_age": "" if provider.max_age is None else str(provider.max_age),
        "genders": provider.genders,
        "exploitation_types": provider.exploitation_types,
        "room": "available" if closed else provider.capacity,
        "response_due_hours": str(provider.response_due_hours),
        "channel": provider.channel,
        "webhook_url": provider.webhook_url,
        "email": provider.email,
    }
    if not closed:
        data["accepting"] = "on"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def snapshot(provider: ServiceProvider) -> tuple:
    provider.refresh_from_db()
    return (
        provider.name,
        provider.service_types,
        provider.capacity,
        provider.channel,
        provider.webhook_url,
        provider.webhook_secret,
        provider.history.count(),
    )


def urls(provider: ServiceProvider) -> dict[str, tuple[str, str]]:
    """Every page and form of the directory for `provider`: (method, url)."""
    return {
        "list": ("get", reverse("providers:list")),
        "new": ("get", reverse("providers:new")),
        "new-post": ("post", reverse("providers:new")),
        "edit": ("get", reverse("providers:edit", args=[provider.pk])),
        "edit-post": ("post", reverse("providers:edit", args=[provider.pk])),
        "rotate": ("post", reverse("providers:rotate-secret", args=[provider.pk])),
        "history": ("get", reverse("providers:history", args=[provider.pk])),
    }


# --- anonymous, wrong role, wrong agency ------------------------------------------------------


def test_anonymous_people_are_sent_to_sign_in_from_every_page_and_form(client, hook_provider):
    before = snapshot(hook_provider)
    for method, url in urls(hook_provider).values():
        response = getattr(client, method)(
            url, form_for(hook_provider) if method == "post" else None
        )
        assert login_redirect(response, url), url
    assert snapshot(hook_provider) == before
    assert ServiceProvider.objects.count() == 1


def test_provider_staff_of_the_same_agency_may_change_nothing(
    client_for, provider_staff, hook_provider
):
    client = client_for(provider_staff)
    before = snapshot(hook_provider)
    for name, (method, url) in urls(hook_provider).items():
        data = form_for(hook_provider, name="Renamed") if method == "post" else None
        assert getattr(client, method)(url, data).status_code == 403, name
    assert snapshot(hook_provider) == before
    assert ServiceProvider.objects.count() == 1
    assert "Providers</a>" not in client.get(reverse("referrals:home")).content.decode()


def test_an_administrator_of_another_agency_never_reaches_these_providers(
    client_for, other_admin, hook_provider, inbox_provider, other_provider
):
    """Every page and form naming agency A's provider is a 404 for agency B's administrator,
    as for a provider that does not exist; nothing changes; B's list shows B's own only."""
    client = client_for(other_admin)
    for provider in (hook_provider, inbox_provider):
        before = snapshot(provider)
        for name, (method, url) in urls(provider).items():
            if name in ("list", "new", "new-post"):
                continue
            data = form_for(provider, name="Taken over", channel="email", email="x@example.org")
            response = getattr(client, method)(url, data if method == "post" else None)
            assert response.status_code == 404, name
        assert snapshot(provider) == before
    page = client.get(reverse("providers:list")).content.decode()
    assert "Clinic Hook" in page
    assert "Shelter Hook" not in page and "Inbox Shelter" not in page
    missing = reverse("providers:edit", args=[999999])
    assert client.get(missing).status_code == 404


def test_a_provider_of_no_agency_is_managed_by_no_one_in_the_product(client_for, shelter_admin):
    loose = make_provider(slug="file-only", name="File Only")
    client = client_for(shelter_admin)
    for name, (method, url) in urls(loose).items():
        if name in ("list", "new", "new-post"):
            continue
        response = getattr(client, method)(url, form_for(loose) if method == "post" else None)
        assert response.status_code == 404, name


def test_a_new_service_is_always_the_administrators_own_agencys(
    client_for, shelter_admin, provider_agency
):
    """No field of the form names an agency: a new provider belongs to the signer's."""
    response = client_for(shelter_admin).post(
        reverse("providers:new"), {**SHELTER_FORM, "agency": "999"}
    )
    assert response.status_code == 302
    created = ServiceProvider.objects.get(name="Lantern House")
    assert created.agency == provider_agency


# --- the list ----------------------------------------------------------------------------------


def test_the_list_shows_the_agencys_providers_with_a_fixed_number_of_queries(
    client_for,
    shelter_admin,
    hook_provider,
    inbox_provider,
    provider_agency,
    django_assert_num_queries,
):
    client = client_for(shelter_admin)
    client.get(reverse("providers:list"))  # the session's first-request work
    # Session, user, device, roles, the providers; the session saved (every request).
    with django_assert_num_queries(8) as captured:
        page = client.get(reverse("providers:list")).content.decode()
    for number in range(3):
        make_provider(
            slug=f"more-{number}",
            agency=provider_agency,
            channel="email",
            email=f"intake{number}@example.org",
            webhook_url="",
            webhook_secret="",
        )
    with django_assert_num_queries(len(captured)):
        more = client.get(reverse("providers:list")).content.decode()
    assert "Shelter Hook" in page and "Inbox Shelter" in page
    assert more.count('class="case-card"') == 5
    # Codes in words, never raw.
    assert "Shelter" in page and "Signed webhook" in page and "In-system inbox" in page
    assert "service_types" not in page and ">shelter<" not in page
    assert 'href="/agency/providers/"' in page  # the menu names the page


# --- editing -----------------------------------------------------------------------------------


def test_an_edit_is_saved_recorded_in_history_and_shown_back(
    client_for, shelter_admin, inbox_provider
):
    client = client_for(shelter_admin)
    url = reverse("providers:edit", args=[inbox_provider.pk])
    page = client.get(url).content.decode()
    assert 'value="Inbox Shelter"' in page
    response = client.post(
        url,
        form_for(
            inbox_provider,
            name="Inbox Shelter North",
            service_types=["shelter", "legal_aid"],
            regions=["national"],
            other_regions="Northmoor, Fenwick",
            languages=["en", "ro"],
            min_age="16",
            max_age="30",
            genders=["female"],
            room="limited",
            response_due_hours="12",
        ),
    )
    assert response.status_code == 302 and response["Location"] == url
    inbox_provider.refresh_from_db()
    assert inbox_provider.name == "Inbox Shelter North"
    assert inbox_provider.service_types == ["shelter", "legal_aid"]
    assert inbox_provider.regions == ["national", "Northmoor", "Fenwick"]
    assert inbox_provider.languages == ["en", "ro"]
    assert (inbox_provider.min_age, inbox_provider.max_age) == (16, 30)
    assert inbox_provider.genders == ["female"]
    assert inbox_provider.capacity == "limited"
    assert inbox_provider.response_due_hours == 12
    assert inbox_provider.product_edited_at is not None
    record = inbox_provider.history.latest()
    assert record.history_user == shelter_admin
    assert record.history_change_reason == "Changed in the product"
    history = client.get(reverse("providers:history", args=[inbox_provider.pk])).content.decode()
    assert "Changed in the product" in history
    assert shelter_admin.get_full_name() in history
    assert "Name: Inbox Shelter → Inbox Shelter North" in history
    assert "Capacity: Taking referrals → Limited capacity" in history
    assert (
        "Services: Shelter, Medical care, Legal aid, Case management → Shelter, Legal aid"
        in history
    )
    shown = client.get(url).content.decode()
    assert 'value="Northmoor"' in shown and "checked" in shown


@pytest.mark.parametrize(
    ("changes", "field_label", "message"),
    [
        ({"channel": "webhook", "webhook_url": ""}, "Webhook address", "http(s) url"),
        (
            {"channel": "webhook", "webhook_url": "ftp://files.example.org/in"},
            "Webhook address",
            "http(s) url",
        ),
        (
            {"channel": "email", "email": "not-an-address"},
            "Email address for referrals",
            "email address",
        ),
        ({"min_age": "40", "max_age": "20"}, "Oldest age served", "must not be above the oldest"),
        ({"service_types": []}, "Services offered", "required"),
        ({"regions": [], "other_regions": " , "}, "Regions covered", "at least 1 item"),
        (
            {"response_due_hours": "0"},
            "Answers a referral within (hours)",
            "greater than or equal to 1",
        ),
        ({"name": "  "}, "Name of the service", "required"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(
    client_for, shelter_admin, inbox_provider, changes, field_label, message
):
    client = client_for(shelter_admin)
    before = snapshot(inbox_provider)
    url = reverse("providers:edit", args=[inbox_provider.pk])
    response = client.post(url, {**form_for(inbox_provider, name="Half Saved"), **changes})
    assert response.status_code == 400
    page = response.content.decode()
    summary = re.search(r'class="error-summary".*?</div>', page, re.S)
    assert summary, page[:2000]
    assert field_label in summary.group(0)
    assert message.lower() in page.lower()
    assert snapshot(inbox_provider) == before


def test_the_webhook_address_follows_the_production_rules_on_the_form(
    client_for, shelter_admin, inbox_provider, settings
):
    """The same check the directory file's entries pass (webhook_targets): in production
    only https to public addresses; the page never repeats the address."""
    settings.REFERRAL_WEBHOOK_REQUIRE_PUBLIC_HTTPS = True
    url = reverse("providers:edit", args=[inbox_provider.pk])
    response = client_for(shelter_admin).post(
        url,
        form_for(inbox_provider, channel="webhook", webhook_url="https://127.0.0.1/tok-fictional"),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "loopback address" in page
    inbox_provider.refresh_from_db()
    assert inbox_provider.channel == "inbox"


# --- webhook secrets ---------------------------------------------------------------------------


def _shown_secret(page: str) -> str:
    match = re.search(r'id="new-secret" class="secret" value="([0-9a-f]{64})"', page)
    assert match, page[:3000]
    return match.group(1)


def test_a_channel_that_becomes_a_webhook_gets_a_secret_shown_once(
    client_for, shelter_admin, inbox_provider
):
    client = client_for(shelter_admin)
    url = reverse("providers:edit", args=[inbox_provider.pk])
    response = client.post(
        url, form_for(inbox_provider, channel="webhook", webhook_url="http://127.0.0.1:9/in")
    )
    assert response.status_code == 200
    secret = _shown_secret(response.content.decode())
    inbox_provider.refresh_from_db()
    assert inbox_provider.webhook_secret == secret
    fingerprint = secret_fingerprint(secret)
    assert inbox_provider.webhook_secret_fingerprint == fingerprint
    again = client.get(url).content.decode()
    assert secret not in again and fingerprint_display(fingerprint) in again
    history = client.get(reverse("providers:history", args=[inbox_provider.pk])).content.decode()
    assert secret not in history and f"→ {fingerprint_display(fingerprint)}" in history
    # Sealed at rest, and absent from the history table.
    with connection.cursor() as cursor:
        cursor.execute("SELECT webhook_secret FROM referrals_serviceprovider")
        stored = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT * FROM referrals_historicalserviceprovider")
        history_rows = repr(cursor.fetchall())
    assert secret not in repr(stored) and stored[0].startswith("$e1$")
    assert secret not in history_rows


def test_leaving_the_webhook_drops_its_secret(client_for, shelter_admin, hook_provider):
    response = client_for(shelter_admin).post(
        reverse("providers:edit", args=[hook_provider.pk]),
        form_for(
            hook_provider, channel="email", email="intake@shelter.example.org", webhook_url=""
        ),
    )
    assert response.status_code == 302
    hook_provider.refresh_from_db()
    assert (hook_provider.channel, hook_provider.email) == ("email", "intake@shelter.example.org")
    assert hook_provider.webhook_secret == "" and hook_provider.webhook_secret_fingerprint == ""


def _callback(client, provider, referral, *, secret):
    body = json.dumps(
        {
            "event_id": f"evt-{secret[:6]}",
            "referral": referral.idempotency_key,
            "answer": "acknowledge",
        }
    ).encode()
    timestamp = str(int(time.time()))
    return client.post(
        reverse("referrals:provider-callback", args=[provider.slug]),
        body,
        content_type="application/json",
        headers={
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(secret=secret, timestamp=timestamp, body=body),
        },
    )


def test_rotating_the_secret_puts_the_new_one_in_force_at_once(
    client, client_for, shelter_admin, provider_agency, referral_factory, supervisor, receiver
):
    provider = make_provider(slug="rotating-hook", agency=provider_agency, webhook_url=receiver.url)
    admin = client_for(shelter_admin)
    edit = reverse("providers:edit", args=[provider.pk])
    assert "Rotate the secret" in admin.get(edit).content.decode()
    assert admin.get(reverse("providers:rotate-secret", args=[provider.pk]))["Location"] == edit
    response = admin.post(reverse("providers:rotate-secret", args=[provider.pk]))
    assert response.status_code == 200
    new_secret = _shown_secret(response.content.decode())
    assert new_secret != SECRET
    assert new_secret not in admin.get(edit).content.decode()
    provider.refresh_from_db()
    assert provider.history.latest().history_change_reason == "Webhook secret rotated"

    # The next delivery is signed with the new secret: a receiver holding the old one refuses it.
    referral = referral_factory(provider=provider)
    receiver.secret = new_secret
    referral_approve(referral_id=referral.pk, by=supervisor)
    outbox_relay()
    assert receiver.wait_for(1, timeout=10)
    assert all(delivery.signature_ok for delivery in receiver.deliveries)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT
    # Callbacks: the old secret is refused, the new one accepted.
    assert _callback(client, provider, referral, secret=SECRET).status_code == 401
    assert _callback(client, provider, referral, secret=new_secret).status_code == 200


def test_only_a_webhook_has_a_secret_to_rotate(client_for, shelter_admin, inbox_provider):
    before = snapshot(inbox_provider)
    response = client_for(shelter_admin).post(
        reverse("providers:rotate-secret", args=[inbox_provider.pk]), follow=True
    )
    assert "Only a webhook has a secret to rotate." in response.content.decode()
    assert snapshot(inbox_provider) == before


# --- adding ------------------------------------------------------------------------------------


def test_an_administrator_adds_a_service_of_their_agency(client_for, shelter_admin):
    client = client_for(shelter_admin)
    assert client.get(reverse("providers:new")).status_code == 200
    response = client.post(reverse("providers:new"), SHELTER_FORM)
    created = ServiceProvider.objects.get(name="Lantern House")
    assert response["Location"] == reverse("providers:edit", args=[created.pk])
    assert created.slug == "lantern-house"
    assert created.history.get().history_change_reason == "Added in the product"
    # The same name again gets a slug of its own.
    client.post(reverse("providers:new"), SHELTER_FORM)
    assert ServiceProvider.objects.filter(slug="lantern-house-2").exists()
    bad = client.post(reverse("providers:new"), {**SHELTER_FORM, "name": "Bad", "channel": "email"})
    assert bad.status_code == 400
    assert not ServiceProvider.objects.filter(name="Bad").exists()


def test_a_new_webhook_service_shows_its_secret_once(client_for, shelter_admin):
    response = client_for(shelter_admin).post(
        reverse("providers:new"),
        {**SHELTER_FORM, "channel": "webhook", "webhook_url": "http://127.0.0.1:9/in"},
    )
    secret = _shown_secret(response.content.decode())
    assert ServiceProvider.objects.get(name="Lantern House").webhook_secret == secret


# --- routing reads the current entry -----------------------------------------------------------


def test_a_provider_no_longer_accepting_is_not_proposed_by_the_next_routing_run(
    client_for, shelter_admin, provider_agency, case, officer, routing_rules, submit
):
    shelter = make_provider(
        slug="only-shelter",
        name="Only Shelter",
        agency=provider_agency,
        channel="inbox",
        webhook_url="",
        webhook_secret="",
    )
    record_referral_consent(case, officer, service_type="shelter")
    first = submit(case, POSITIVE)
    referral_route_screening(screening_id=first.pk)
    assert Referral.objects.filter(provider=shelter, service_type="shelter").count() == 1
    Referral.objects.all().delete()

    form = form_for(shelter)
    del form["accepting"]
    response = client_for(shelter_admin).post(reverse("providers:edit", args=[shelter.pk]), form)
    assert response.status_code == 302
    shelter.refresh_from_db()
    assert shelter.capacity == ServiceProvider.Capacity.CLOSED
    second = submit(case, POSITIVE)
    report = referral_route_screening(screening_id=second.pk)
    assert not Referral.objects.filter(provider=shelter).exists()
    assert "shelter" in report.unmatched
    # Accepting again: the next run proposes it again.
    client_for(shelter_admin).post(
        reverse("providers:edit", args=[shelter.pk]), form_for(shelter, accepting="on")
    )
    third = submit(case, POSITIVE)
    referral_route_screening(screening_id=third.pk)
    assert Referral.objects.filter(provider=shelter, screening=third).exists()
