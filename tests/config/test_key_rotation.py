"""`manage.py rotate_field_keys`: every sealed value of every table (change history included)
moves to the active key, resumably, without touching the records' dates or history; a value
that does not decrypt is reported by table, column and row and fails the run."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from config import crypto
from config.encrypted import encrypted_fields
from config.key_rotation import sealed_models, table_rotate
from config.models import IdempotencyRecord
from referrals.models import ReferralEvent
from screening import services
from screening.models import Case, Consent, Contact, HistoricalCase

# The screening and referral fixtures: agencies, staff, a fictional instrument, referrals.
from tests.referrals.conftest import *  # noqa: F403

pytestmark = pytest.mark.django_db

OLD_KEYS = "test1:" + "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTE"
NEW_KEY = "rot2:" + crypto.new_key_text()


@pytest.fixture
def sealed_data(officer, supervisor, submitted, referral_factory):
    """Fictional values in several sealed tables, all under the test key (`test1`)."""
    submitted.case.nationality = "Fictional Nation"
    submitted.case.save()  # and a change-history row of it
    services.case_create(
        created_by=officer,
        age=30,
        identifying_name="Fictional Rotation Person",
        identifying_phone="+44 7700 900123",
        narrative="A fictional account for the rotation test.",
    )
    services.consent_record(
        case=submitted.case,
        by=officer,
        scope=Consent.Scope.LAW_ENFORCEMENT_SHARING,
        method=Consent.Method.WRITTEN,
        witness="Fictional Witness",
        valid_until=timezone.now() + timedelta(days=30),
    )
    Contact.objects.create(
        agency=officer.agency,
        created_by=officer,
        channel=Contact.Channel.PHONE,
        contact_type=Contact.ContactType.TIP,
        summary="A fictional tip.",
        caller_name="Fictional Caller",
        caller_phone="+44 7700 900456",
    )
    services.screening_override(
        screening=submitted,
        by=supervisor,
        outcome="screen_positive",
        reason_code="other",
        note="A fictional override note.",
    )
    ReferralEvent.objects.create(
        referral=referral_factory(), note="A fictional referral event note."
    )
    IdempotencyRecord.objects.create(
        user=officer, key="k-1", fingerprint="f", response_body={"summary": "A fictional body"}
    )


def plain_values() -> dict[tuple[str, object, str], object]:
    """Every non-empty sealed value of the database, read (decrypted) through the models."""
    values = {}
    for model in sealed_models():
        fields = encrypted_fields(model)
        for instance in model._base_manager.order_by("pk"):
            for field in fields:
                value = getattr(instance, field.attname)
                if value not in ("", None):
                    values[(model._meta.db_table, instance.pk, field.column)] = value
    return values


def stored_key_ids() -> dict[str, set[str | None]]:
    """The key id of every non-empty stored value, per table, read with plain SQL."""
    found: dict[str, set[str | None]] = {}
    quote = connection.ops.quote_name
    for model in sealed_models():
        table = model._meta.db_table
        for field in encrypted_fields(model):
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {quote(field.column)} FROM {quote(table)}")  # noqa: S608
                for (stored,) in cursor.fetchall():
                    if stored not in ("", None):
                        found.setdefault(table, set()).add(crypto.key_id_of(stored))
    return found


def use_keys(settings, keys: str, active: str) -> None:
    settings.FIELD_ENCRYPTION_KEYS = keys
    settings.FIELD_ENCRYPTION_ACTIVE_KEY = active


def rotate(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("rotate_field_keys", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def report_row(output: str, table: str) -> list[int]:
    """rows checked, re-encrypted, already current, failed: one table's line of the report."""
    [line] = [line for line in output.splitlines() if line.split()[:1] == [table]]
    return [int(number) for number in line.split()[1:]]


def test_every_table_with_sealed_fields_is_found_generically():
    tables = {model._meta.db_table for model in sealed_models()}
    assert {
        "screening_case",
        "screening_historicalcase",
        "screening_contact",
        "screening_historicalcontact",
        "screening_consent",
        "screening_screeningoverride",
        "referrals_referralevent",
        "core_idempotencyrecord",
    } <= tables


def test_rotation_moves_every_value_to_the_new_key_and_the_old_key_can_go(settings, sealed_data):
    before = plain_values()
    tables = {table for table, _pk, _column in before}
    assert {
        "screening_case",
        "screening_historicalcase",
        "screening_contact",
        "screening_consent",
        "screening_screeningoverride",
        "referrals_referralevent",
        "core_idempotencyrecord",
    } <= tables
    assert stored_key_ids()["screening_case"] == {"test1"}
    updated_at = dict(Case.objects.values_list("pk", "updated_at"))
    history_rows = HistoricalCase.objects.count()

    use_keys(settings, f"{NEW_KEY},{OLD_KEYS}", "rot2")
    output, progress = rotate("--batch-size", "2")

    assert report_row(output, "total")[1] == len(before)  # every value re-encrypted
    assert report_row(output, "total")[3] == 0  # no failures
    case_values = sum(1 for table, _pk, _column in before if table == "screening_case")
    assert report_row(output, "screening_case")[:3] == [Case.objects.count(), case_values, 0]
    assert "screening_historicalcase" in progress  # a progress bar per table, on stderr
    assert set().union(*stored_key_ids().values()) == {"rot2"}  # raw SQL: all under rot2

    use_keys(settings, NEW_KEY, "rot2")  # the old key removed
    assert plain_values() == before
    # A rotation is no change of the record: no history row, no new updated_at.
    assert dict(Case.objects.values_list("pk", "updated_at")) == updated_at
    assert HistoricalCase.objects.count() == history_rows


def test_a_second_run_finds_nothing_to_do(settings, sealed_data):
    use_keys(settings, f"{NEW_KEY},{OLD_KEYS}", "rot2")
    rotate()
    output, _ = rotate()
    checked, reencrypted, current, failed = report_row(output, "total")
    assert reencrypted == 0 and failed == 0
    assert current == len(plain_values()) and checked > 0


def test_an_interrupted_run_is_finished_by_a_rerun(settings, sealed_data):
    use_keys(settings, f"{NEW_KEY},{OLD_KEYS}", "rot2")
    before = plain_values()
    case_values = sum(1 for table, _pk, _column in before if table == "screening_case")

    def interrupt(rows: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        table_rotate(Case, batch_size=1, on_batch=interrupt)
    first = Case.objects.order_by("pk").first()
    assert stored_key_ids()["screening_case"] == {"test1", "rot2"}  # the first batch committed

    output, _ = rotate("--batch-size", "1")

    first_values = sum(
        1 for table, pk, _column in before if (table, pk) == ("screening_case", first.pk)
    )
    assert report_row(output, "screening_case")[1:3] == [case_values - first_values, first_values]
    assert set().union(*stored_key_ids().values()) == {"rot2"}
    use_keys(settings, NEW_KEY, "rot2")
    assert plain_values() == before


def test_one_table_can_be_rotated_first_and_the_rest_later(settings, sealed_data):
    use_keys(settings, f"{NEW_KEY},{OLD_KEYS}", "rot2")
    output, _ = rotate("--model", "referrals.ReferralEvent")
    assert [line.split()[0] for line in output.splitlines()[2:]] == [
        "referrals_referralevent",
        "total",
    ]
    assert stored_key_ids()["referrals_referralevent"] == {"rot2"}
    assert stored_key_ids()["screening_case"] == {"test1"}

    output, _ = rotate()
    assert report_row(output, "referrals_referralevent")[1:3] == [0, 1]
    assert set().union(*stored_key_ids().values()) == {"rot2"}


def test_a_dry_run_counts_values_per_key_and_changes_nothing(settings, sealed_data):
    use_keys(settings, f"{NEW_KEY},{OLD_KEYS}", "rot2")
    output, _ = rotate("--dry-run")
    [case_line] = [line for line in output.splitlines() if line.startswith("screening_case ")]
    case_values = sum(1 for table, _pk, _column in plain_values() if table == "screening_case")
    assert f"not under rot2: {case_values:>8}" in case_line
    assert f"test1: {case_values}" in case_line
    assert f"dry run: {len(plain_values())} value(s) would be re-encrypted" in output
    assert set().union(*stored_key_ids().values()) == {"test1"}


def test_a_value_under_an_unknown_key_is_reported_and_fails_the_run(settings, sealed_data):
    case = Case.objects.order_by("pk").first()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE screening_case SET identifying_phone = %s WHERE id = %s",
            [f"$e1$lost9${'A' * 40}", case.pk],
        )
    use_keys(settings, f"{NEW_KEY},{OLD_KEYS}", "rot2")

    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="1 value"):
        call_command("rotate_field_keys", stdout=out, stderr=err)

    assert f"screening_case.identifying_phone row {case.pk}" in err.getvalue()
    assert "lost9" in err.getvalue()
    assert report_row(out.getvalue(), "screening_case")[3] == 1
    # The others went on to the new key; the unreadable one is left exactly as it was.
    key_ids = stored_key_ids()
    assert key_ids["screening_case"] == {"rot2", "lost9"}
    assert key_ids["screening_consent"] == {"rot2"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT identifying_phone FROM screening_case WHERE id = %s", [case.pk])
        assert cursor.fetchone()[0] == f"$e1$lost9${'A' * 40}"


def test_the_report_never_shows_a_value(settings, sealed_data):
    use_keys(settings, f"{NEW_KEY},{OLD_KEYS}", "rot2")
    output, progress = rotate()
    for text in ("Fictional", "fictional", "+44"):
        assert text not in output and text not in progress


def test_a_batch_size_below_one_is_refused():
    with pytest.raises(CommandError, match="--batch-size"):
        rotate("--batch-size", "0")


def test_an_unknown_model_is_refused():
    with pytest.raises(CommandError, match="screening.Agency is no model with encrypted"):
        rotate("--model", "screening.Agency")
