"""The provider directory's one validation, shared by the file loader and the product, and
what the loader does with entries changed in the product since it last wrote them (issue 15)."""

from __future__ import annotations

import io
import textwrap

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from config.errors import ValidationError
from referrals.directory import ProviderEntryInvalid, load_directory_file, provider_entry_parse
from referrals.errors import ProviderNotFound
from referrals.models import ServiceProvider
from referrals.permissions import provider_access
from referrals.routing import RoutingFileError
from referrals.services.providers import provider_secret_rotate, provider_update
from referrals.signing import secret_fingerprint
from screening.models import Agency
from screening.roles import Role
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db

DIRECTORY = textwrap.dedent(
    """\
    providers:
      - slug: lantern-house
        name: Lantern House
        agency: Lantern Row Shelter
        service_types: [shelter]
        regions: [Northmoor]
        population: {min_age: 18, languages: [en]}
        channel: {kind: inbox}
        response_due_hours: 24
      - slug: fenwick-hook
        name: Fenwick Hook
        agency: Lantern Row Shelter
        service_types: [legal_aid]
        regions: [national]
        channel: {kind: webhook, url: "http://127.0.0.1:9/fenwick", secret_env: FENWICK_TEST_SECRET}
    """
)


@pytest.fixture
def shelter_agency():
    return AgencyFactory(name="Lantern Row Shelter", kind=Agency.Kind.SERVICE_PROVIDER)


@pytest.fixture
def shelter_admin(shelter_agency):
    return UserFactory(agency=shelter_agency, role=Role.AGENCY_ADMIN)


@pytest.fixture
def directory(tmp_path, shelter_agency, monkeypatch):
    monkeypatch.setenv("FENWICK_TEST_SECRET", "fenwick-secret-from-the-environment")
    folder = tmp_path / "providers"
    folder.mkdir()
    (folder / "directory.yaml").write_text(DIRECTORY)
    routing = tmp_path / "routing"
    routing.mkdir()
    return folder


def load(folder, *options) -> str:
    out = io.StringIO()
    call_command(
        "load_referral_seeds",
        "--routing",
        str(folder.parent / "routing"),
        "--providers",
        str(folder),
        *options,
        stdout=out,
    )
    return out.getvalue()


def update_values(provider: ServiceProvider, **changes) -> dict:
    values = {
        "name": provider.name,
        "service_types": provider.service_types,
        "regions": provider.regions,
        "languages": provider.languages,
        "min_age": provider.min_age,
        "max_age": provider.max_age,
        "genders": provider.genders,
        "exploitation_types": provider.exploitation_types,
        "capacity": provider.capacity,
        "response_due_hours": provider.response_due_hours,
        "channel": provider.channel,
        "webhook_url": provider.webhook_url,
        "email": provider.email,
    }
    return {**values, **changes}


# --- one validation --------------------------------------------------------------------------


def test_one_function_validates_an_entry_for_the_file_and_the_product():
    with pytest.raises(ProviderEntryInvalid) as invalid:
        provider_entry_parse(
            {
                "slug": "x",
                "name": "X",
                "service_types": ["shelter", "teleportation"],
                "regions": [],
                "channel": {"kind": "email"},
            }
        )
    fields = {field for field, _ in invalid.value.problems}
    assert fields == {"service_types.1", "regions", "channel"}


def test_a_bad_directory_file_names_file_provider_and_field_and_loads_nothing(
    tmp_path, shelter_agency
):
    path = tmp_path / "bad.yaml"
    path.write_text(
        DIRECTORY.replace("regions: [Northmoor]", "regions: []").replace(
            "response_due_hours: 24", "response_due_hours: 24\n    colour: blue"
        )
    )
    with pytest.raises(RoutingFileError) as error:
        load_directory_file(path)
    lines = [str(problem) for problem in error.value.problems]
    assert f"{path}: rule=lantern-house field=providers.0.regions: " in lines[0]
    assert any("field=providers.0.colour" in line for line in lines)
    with pytest.raises(CommandError, match="nothing was loaded"):
        call_command(
            "load_referral_seeds",
            "--routing",
            str(tmp_path),
            "--providers",
            str(path),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    assert not ServiceProvider.objects.exists()


def test_the_product_refuses_what_the_file_loader_refuses(shelter_admin, shelter_agency):
    provider = ServiceProvider.objects.create(
        slug="inbox-one",
        name="Inbox One",
        agency=shelter_agency,
        channel="inbox",
        service_types=["shelter"],
        regions=["national"],
    )
    history_rows = provider.history.count()
    with pytest.raises(ValidationError) as refused:
        provider_update(
            provider_id=provider.pk,
            by=shelter_admin,
            **update_values(provider, service_types=["teleportation"], min_age=30, max_age=20),
        )
    assert set(refused.value.field_errors) == {"service_types", "max_age"}
    assert "must not be above the oldest" in refused.value.field_errors["max_age"][0]
    provider.refresh_from_db()
    assert provider.service_types == ["shelter"] and provider.history.count() == history_rows


def test_the_access_function_hides_other_agencies_providers(shelter_admin, shelter_agency):
    other = AgencyFactory(name="Fictional Other Org")
    theirs = ServiceProvider.objects.create(
        slug="theirs",
        name="Theirs",
        agency=other,
        channel="inbox",
        service_types=["shelter"],
        regions=["national"],
    )
    with pytest.raises(ProviderNotFound):
        provider_access(user=shelter_admin, provider_id=theirs.pk)
    with pytest.raises(ProviderNotFound):
        provider_access(user=shelter_admin, provider_id="not-a-number")
    with pytest.raises(ProviderNotFound):
        provider_secret_rotate(provider_id=theirs.pk, by=shelter_admin)


# --- the loader and changes made in the product ----------------------------------------------


def test_loading_the_same_file_again_reports_every_provider_unchanged(directory):
    first = load(directory)
    assert "providers: 2 created" in first
    hook = ServiceProvider.objects.get(slug="fenwick-hook")
    assert hook.webhook_secret == "fenwick-secret-from-the-environment"
    assert hook.webhook_secret_fingerprint == secret_fingerprint(hook.webhook_secret)
    history_rows = sum(p.history.count() for p in ServiceProvider.objects.all())
    second = load(directory)
    assert "providers: 2 unchanged" in second
    assert "unchanged  lantern-house" in second
    assert sum(p.history.count() for p in ServiceProvider.objects.all()) == history_rows


def test_the_loader_skips_a_provider_changed_in_the_product_and_says_so(directory, shelter_admin):
    load(directory)
    house = ServiceProvider.objects.get(slug="lantern-house")
    provider_update(
        provider_id=house.pk, by=shelter_admin, **update_values(house, capacity="closed")
    )
    out = load(directory)
    assert "skipped (changed in the product since the last load)  lantern-house" in out
    assert "1 provider(s) changed in the product were left as they are" in out
    house.refresh_from_db()
    assert house.capacity == "closed"

    # A rotated secret is a change made in the product too: the environment's stays out.
    hook = ServiceProvider.objects.get(slug="fenwick-hook")
    rotated = provider_secret_rotate(provider_id=hook.pk, by=shelter_admin).new_secret
    assert "skipped (changed in the product since the last load)  fenwick-hook" in load(directory)
    hook.refresh_from_db()
    assert hook.webhook_secret == rotated


def test_overwriting_product_edits_replaces_them_and_the_history_says_so(directory, shelter_admin):
    load(directory)
    house = ServiceProvider.objects.get(slug="lantern-house")
    provider_update(
        provider_id=house.pk, by=shelter_admin, **update_values(house, name="Lantern House II")
    )
    out = load(directory, "--overwrite-product-edits")
    assert "overwrote the change made in the product  lantern-house" in out
    house.refresh_from_db()
    assert house.name == "Lantern House" and house.product_edited_at is None
    latest = house.history.latest()
    assert latest.history_change_reason == "Directory file replaced the change made in the product"
    assert latest.history_user is None
    # Once the file wrote it again, the next load without the flag updates it as before.
    assert "unchanged  lantern-house" in load(directory)


def test_a_product_edit_that_matches_the_file_is_unchanged_not_skipped(directory, shelter_admin):
    load(directory)
    house = ServiceProvider.objects.get(slug="lantern-house")
    provider_update(provider_id=house.pk, by=shelter_admin, **update_values(house))
    assert "unchanged  lantern-house" in load(directory)


def test_the_history_table_never_holds_the_secret(directory):
    load(directory)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM referrals_historicalserviceprovider")
        rows = repr(cursor.fetchall())
        cursor.execute("SELECT webhook_secret FROM referrals_serviceprovider")
        stored = repr(cursor.fetchall())
    assert "fenwick-secret-from-the-environment" not in rows
    assert "fenwick-secret-from-the-environment" not in stored
    assert secret_fingerprint("fenwick-secret-from-the-environment") in rows
