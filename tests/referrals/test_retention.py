"""The retention purge (docs/retention.md): what goes, what stays, and that nothing of a purged
case remains in any table (the issue's second canary). All people and values are fictional."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from config.models import AccessLogEntry, IdempotencyRecord, OutboxMessage, PurgeRecord
from config.outbox import outbox_emit
from referrals.models import ProviderCallbackReceipt, Referral
from referrals.services import referral_approve, referral_dispatch, referral_provider_answer
from referrals.services.retention import expired_records_purge
from referrals.tasks import purge_expired
from screening import services
from screening.events import SCREENING_SUBMITTED
from screening.models import (
    Case,
    CaseUserObjectPermission,
    Contact,
    IdentifierDigest,
    Screening,
)
from screening.services.legal_hold import case_legal_hold_set
from tests.factories import AgencyFactory
from tests.referrals.conftest import make_provider, record_referral_consent

pytestmark = pytest.mark.django_db

YEAR = timedelta(days=365)
ACCESS_LOG = AccessLogEntry._meta.db_table
IDEMPOTENCY = IdempotencyRecord._meta.db_table
# Distinctive fictional values, so a search for them cannot hit anything else.
NAME = "Zephyrine Quillfeather-Ombrage"
PHONE = "+44 7700 900123"
NARRATIVE = "Kept at the Marigold Laundry on Vellum Street by a man called Orsk."


def _age(model, pk, **fields_ago):
    """Move a row's timestamps into the past (`closed_at=8 * YEAR` means 8 years ago)."""
    now = timezone.now()
    model.objects.filter(pk=pk).update(**{name: now - ago for name, ago in fields_ago.items()})


@dataclass
class CaseWorld:
    """An expired case with everything that can hang off it, and the handles to find it by."""

    case: Case
    ids: dict[str, set] = field(default_factory=dict)
    row_uids: set[str] = field(default_factory=set)


@pytest.fixture
def build_case(officer, supervisor, colleague, other_agency, start_screening):
    # The in-system inbox: delivery needs no network, and its events and outbox rows are real.
    provider = make_provider(
        slug="retention-shelter",
        channel="inbox",
        agency=AgencyFactory(name="Shelter Agency", kind="service_provider"),
    )

    def build(*, closed_ago: timedelta | None = 8 * YEAR, full: bool = True) -> CaseWorld:
        case = services.case_create(
            created_by=officer,
            age=29,
            identifying_name=NAME,
            identifying_phone=PHONE,
            narrative=NARRATIVE,
            safe_to_contact="yes",
        )
        world = CaseWorld(case=case)
        services.consent_record(case=case, by=officer, scope="screening", method="verbal")
        if full:
            screening = services.screening_submit(screening=start_screening(case), by=officer)
            services.screening_override(
                screening=screening,
                by=supervisor,
                outcome="screen_positive",
                reason_code="professional_judgement",
                note="Seen at the Marigold Laundry.",
            )
            consent = record_referral_consent(case, officer, service_type="shelter")
            referral = Referral.objects.create(
                case=case,
                case_agency_id=case.agency_id,
                screening=screening,
                provider=provider,
                provider_agency_id=provider.agency_id,
                service_type="shelter",
                status="pending_approval",
                consent_used=consent,
                due_at=timezone.now() + timedelta(hours=24),
            )
            referral_approve(referral_id=referral.pk, by=supervisor, note="Go ahead.")
            referral_dispatch(referral_id=referral.pk)
            referral_provider_answer(
                referral_id=referral.pk, by=None, provider=provider, answer="acknowledge"
            )
            ProviderCallbackReceipt.objects.create(
                provider=provider,
                idempotency_key=f"evt-{referral.pk}",
                referral=referral,
                response_status=200,
                response_body={"referral": referral.idempotency_key, "status": "acknowledged"},
            )
            services.case_assign(case=case, worker=colleague, by=supervisor)
            services.case_share(
                case=case, agency=other_agency, reason="Joint visit planned.", by=supervisor
            )
            contact = services.contact_create(
                created_by=supervisor,
                channel="phone",
                contact_type="tip",
                summary="Caller saw the laundry van at night.",
                caller_name="Bartholomew Inkwhistle",
                caller_phone="+44 7700 900456",
                case_reference=case.reference,
            )
            IdentifierDigest.objects.get_or_create(kind="phone", digest="ab" * 32, case=case)
            IdempotencyRecord.objects.create(
                user=officer,
                key=f"case-{case.pk}",
                fingerprint="0" * 64,
                response_status=201,
                response_body={"reference": case.reference},
                object_type="case",
                object_id=case.reference,
            )
            IdempotencyRecord.objects.create(
                user=supervisor,
                key=f"contact-{contact.pk}",
                fingerprint="0" * 64,
                response_status=201,
                response_body={"id": contact.pk},
                object_type="contact",
                object_id=str(contact.pk),
            )
            world.ids["screening"] = {screening.pk}
            world.ids["referral"] = {referral.pk}
            world.ids["contact"] = {contact.pk}
        named = [("screening:case-detail", "case", case.reference)]
        named += [
            ("api-screening-detail", "screening", str(pk)) for pk in world.ids.get("screening", ())
        ]
        for route, object_type, ref in named:
            AccessLogEntry.objects.create(
                user=officer,
                agency_id=officer.agency_id,
                method="GET",
                route=route,
                object_type=object_type,
                object_ref=ref,
                case=case,
                status_code=200,
                outcome="allowed",
            )
        if closed_ago is not None:
            services.case_close(case=case, by=supervisor, reason="Moved to another city.")
            _age(Case, case.pk, closed_at=closed_ago)
        world.ids["case"] = {case.pk}
        world.row_uids = _row_uids(case)
        return world

    return build


def _row_uids(case: Case) -> set[str]:
    uids = {case.row_uid}
    uids |= set(case.consents.values_list("row_uid", flat=True))
    uids |= set(case.screenings.values_list("row_uid", flat=True))
    uids |= set(case.shares.values_list("row_uid", flat=True))
    uids |= set(case.contacts.values_list("row_uid", flat=True))
    for screening in case.screenings.all():
        uids |= set(screening.overrides.values_list("row_uid", flat=True))
    for referral in case.referrals.all():
        uids |= set(referral.events.values_list("row_uid", flat=True))
    return {str(uid) for uid in uids}


# --- reading the whole database with SQL --------------------------------------------------


def _plain(value):
    return bytes(value) if isinstance(value, memoryview) else value


def database_snapshot() -> dict[str, set[tuple]]:
    """Every row of every table, as read with plain SQL."""
    quote = connection.ops.quote_name
    snapshot = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {quote(table)}")  # noqa: S608 (names from introspection)
            snapshot[table] = {tuple(repr(_plain(v)) for v in row) for row in cursor.fetchall()}
    return snapshot


def rows_mentioning(needles: set[str]) -> list[tuple[str, str]]:
    """(table, column) for every column of every table whose text holds one of `needles`."""
    quote = connection.ops.quote_name
    needles = sorted(needles)
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                text = f"CAST({quote(column.name)} AS TEXT)"
                cursor.execute(
                    f"SELECT COUNT(*) FROM {quote(table)} WHERE "  # noqa: S608 (introspected names)
                    + " OR ".join(f"{text} LIKE %s" for _ in needles),
                    [f"%{needle}%" for needle in needles],
                )
                if cursor.fetchone()[0]:
                    found.append((table, column.name))
    return found


def rows_with_case_id(case_id: int) -> list[tuple[str, str]]:
    """(table, column) for every case-id column (`case_id`, guardian's `content_object_id` of
    the case grant tables) holding `case_id`."""
    quote = connection.ops.quote_name
    grant_tables = {
        CaseUserObjectPermission._meta.db_table,
        "screening_casegroupobjectpermission",
    }
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                if column.name == "case_id" or (
                    table in grant_tables and column.name == "content_object_id"
                ):
                    cursor.execute(
                        f"SELECT COUNT(*) FROM {quote(table)} "  # noqa: S608 (introspected names)
                        f"WHERE {quote(column.name)} = %s",
                        [case_id],
                    )
                    if cursor.fetchone()[0]:
                        found.append((table, column.name))
    return found


# --- the canary: nothing of a purged case remains -----------------------------------------


def test_a_purged_case_leaves_nothing_but_its_id_in_the_access_log(build_case, supervisor):
    recent = build_case(closed_ago=1 * YEAR, full=False)
    open_case = build_case(closed_ago=None, full=False)
    _age(Case, open_case.case.pk, created_at=20 * YEAR)
    held = build_case(closed_ago=9 * YEAR, full=False)
    case_legal_hold_set(case=held.case, by=supervisor, reason="Evidence in a trial.")
    before = database_snapshot()

    expired = build_case()
    case = expired.case
    assert Screening.history.model.objects.filter(case_id=case.pk).exists()
    assert Contact.history.model.objects.filter(case_id=case.pk).exists()
    assert Case.history.model.objects.filter(id=case.pk).count() >= 2
    handles = {case.reference, *expired.row_uids}
    handles |= {uid.replace("-", "") for uid in expired.row_uids}  # SQLite's UUID form
    assert ("screening_case", "reference") in rows_mentioning(handles)  # the search works

    report = expired_records_purge(trigger="command")

    after = database_snapshot()
    # Nothing that was there before the expired case existed is gone or changed...
    assert {
        table: rows - after[table] for table, rows in before.items() if rows - after[table]
    } == {}
    # ...and the only rows added since: the purge record, and the purged case's access-log
    # entries, which keep its id and nothing else.
    added = {table for table, rows in after.items() if rows - before[table]}
    assert added == {PurgeRecord._meta.db_table, ACCESS_LOG}
    assert rows_mentioning(handles) == []
    assert rows_with_case_id(case.pk) == [(ACCESS_LOG, "case_id")]
    entries = AccessLogEntry.objects.filter(case_id=case.pk)
    assert entries.count() == 2
    assert set(entries.values_list("object_ref", flat=True)) == {""}
    # What the purge says about itself: counts per table, never ids or references.
    record = PurgeRecord.objects.get()
    assert record.trigger == "command"
    assert record.deleted == report.deleted
    assert all(isinstance(count, int) for count in record.deleted.values())
    assert record.deleted["screening_case"] == 1
    assert record.deleted["screening_contact"] == 1
    assert record.deleted["referrals_referral"] == 1
    assert record.deleted["screening_historicalcase"] >= 2
    assert set(record.deleted) >= {
        "screening_screening",
        "screening_screeningoverride",
        "screening_consent",
        "screening_caseshare",
        "screening_caseassignment",
        "screening_caseuserobjectpermission",
        "screening_identifierdigest",
        "referrals_referralevent",
        "core_outboxmessage",
        "referrals_providercallbackreceipt",
        "referrals_historicalreferral",
        "screening_historicalscreening",
        "screening_historicalscreeningoverride",
        "screening_historicalconsent",
        "screening_historicalcontact",
        IDEMPOTENCY,
    }
    assert set(Case.objects.values_list("pk", flat=True)) == {
        recent.case.pk,
        open_case.case.pk,
        held.case.pk,
    }


def test_a_dry_run_changes_nothing_and_counts_what_the_purge_deletes(build_case):
    build_case()
    build_case(closed_ago=1 * YEAR)
    before = database_snapshot()

    out = io.StringIO()
    call_command("purge_expired", "--dry-run", stdout=out, stderr=io.StringIO())

    assert database_snapshot() == before
    assert PurgeRecord.objects.count() == 0
    printed = out.getvalue()
    assert "would delete" in printed and "nothing was changed" in printed
    dry = {
        table: int(count)
        for count, table in (line.split()[2:4] for line in printed.splitlines() if "_" in line)
    }
    real = expired_records_purge(trigger="command").deleted
    assert dry == real
    assert real["screening_case"] == 1


def test_a_case_on_legal_hold_is_never_purged(build_case, supervisor):
    world = build_case(closed_ago=20 * YEAR)
    case_legal_hold_set(case=world.case, by=supervisor, reason="Records request pending.")

    report = expired_records_purge(trigger="command")

    assert Case.objects.filter(pk=world.case.pk).exists()
    assert Referral.objects.filter(case=world.case).count() == 1
    assert "screening_case" not in report.deleted


def test_a_recently_closed_case_and_an_open_case_are_kept(build_case):
    recent = build_case(closed_ago=7 * YEAR - timedelta(days=2), full=False)
    open_case = build_case(closed_ago=None, full=False)
    _age(Case, open_case.case.pk, created_at=30 * YEAR)

    expired_records_purge(trigger="command")

    assert Case.objects.filter(pk__in=[recent.case.pk, open_case.case.pk]).count() == 2


def test_the_retention_period_comes_from_settings(build_case, settings):
    world = build_case(closed_ago=2 * YEAR, full=False)
    settings.RETENTION_CLOSED_CASE_DAYS = 365

    expired_records_purge(trigger="command")

    assert not Case.objects.filter(pk=world.case.pk).exists()


def test_batches_of_one_purge_every_expired_case_with_progress_and_counts(build_case):
    worlds = [build_case(full=False) for _ in range(3)]
    out, err = io.StringIO(), io.StringIO()

    call_command("purge_expired", "--batch-size", "1", stdout=out, stderr=err)

    assert not Case.objects.filter(pk__in=[w.case.pk for w in worlds]).exists()
    assert "deleted        3  screening_case" in out.getvalue()
    assert "closed cases" in err.getvalue() and "3/3" in err.getvalue()
    assert PurgeRecord.objects.get().deleted["screening_case"] == 3


@pytest.mark.parametrize("size", ["0", "-1", "many"])
def test_a_bad_batch_size_is_refused_before_anything_is_deleted(build_case, size):
    world = build_case(full=False)
    with pytest.raises(CommandError, match="--batch-size"):
        call_command("purge_expired", "--batch-size", size, stdout=io.StringIO())
    assert Case.objects.filter(pk=world.case.pk).exists()
    assert PurgeRecord.objects.count() == 0


# --- the other record types -----------------------------------------------------------------


def test_abandoned_drafts_go_and_recent_ones_stay(case, draft, start_screening, settings):
    settings.RETENTION_DRAFT_SCREENING_DAYS = 90
    recent = start_screening(case)
    _age(Screening, draft.pk, updated_at=timedelta(days=91))

    report = expired_records_purge(trigger="command")

    assert list(Screening.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not Screening.history.model.objects.filter(id=draft.pk).exists()
    assert report.deleted["screening_screening"] == 1
    assert Case.objects.filter(pk=case.pk).exists()


def test_drafts_of_a_case_on_legal_hold_stay(case, draft, supervisor):
    case_legal_hold_set(case=case, by=supervisor, reason="Evidence in a trial.")
    _age(Screening, draft.pk, updated_at=5 * YEAR)

    expired_records_purge(trigger="command")

    assert Screening.objects.filter(pk=draft.pk).exists()


def test_contacts_without_a_case_go_after_their_period(case, supervisor, settings):
    settings.RETENTION_UNLINKED_CONTACT_DAYS = 730

    def contact(**extra):
        return services.contact_create(
            created_by=supervisor,
            channel="phone",
            contact_type="information",
            caller_phone="+44 7700 900789",
            **extra,
        )

    old, recent, linked = contact(), contact(), contact(case_reference=case.reference)
    for row in (old, linked):
        _age(Contact, row.pk, created_at=3 * YEAR)

    report = expired_records_purge(trigger="command")

    assert set(Contact.objects.values_list("pk", flat=True)) == {recent.pk, linked.pk}
    assert not IdentifierDigest.objects.filter(contact_id=old.pk).exists()
    assert not Contact.history.model.objects.filter(id=old.pk).exists()
    assert report.deleted["screening_contact"] == 1


def test_completed_outbox_rows_and_old_callback_receipts_go(submitted, settings):
    settings.RETENTION_OUTBOX_DAYS = 30
    settings.RETENTION_CALLBACK_RECEIPT_DAYS = 30
    done = outbox_emit(topic=SCREENING_SUBMITTED, subject=submitted)[0]
    _age(OutboxMessage, done.pk, completed_at=timedelta(days=31))
    waiting = outbox_emit(topic=SCREENING_SUBMITTED, subject=submitted)[0]
    _age(OutboxMessage, waiting.pk, created_at=timedelta(days=400))
    provider = make_provider()
    receipts = [
        ProviderCallbackReceipt.objects.create(
            provider=provider,
            idempotency_key=f"evt-{n}",
            response_status=404,
            response_body={"detail": "No such referral."},
        )
        for n in range(2)
    ]
    _age(ProviderCallbackReceipt, receipts[0].pk, received_at=timedelta(days=31))

    report = expired_records_purge(trigger="command")

    assert list(OutboxMessage.objects.values_list("pk", flat=True)) == [waiting.pk]
    assert list(ProviderCallbackReceipt.objects.values_list("pk", flat=True)) == [receipts[1].pk]
    assert report.deleted["core_outboxmessage"] == 1
    assert report.deleted["referrals_providercallbackreceipt"] == 1


def test_access_log_and_idempotency_records_keep_their_own_periods(officer, settings):
    settings.ACCESS_LOG_RETENTION_DAYS = 10
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 24
    entries = [
        AccessLogEntry.objects.create(
            user=officer,
            method="GET",
            route="screening:my-cases",
            status_code=200,
            outcome="allowed",
        )
        for _ in range(2)
    ]
    _age(AccessLogEntry, entries[0].pk, at=timedelta(days=11))
    records = [
        IdempotencyRecord.objects.create(user=officer, key=f"k{n}", fingerprint="0" * 64)
        for n in range(2)
    ]
    _age(IdempotencyRecord, records[0].pk, created_at=timedelta(hours=25))

    report = expired_records_purge(trigger="command")

    assert list(AccessLogEntry.objects.values_list("pk", flat=True)) == [entries[1].pk]
    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [records[1].pk]
    assert report.deleted == {ACCESS_LOG: 1, IDEMPOTENCY: 1}


def test_a_run_with_nothing_expired_is_recorded_with_no_counts(case):
    out = io.StringIO()
    call_command("purge_expired", stdout=out, stderr=io.StringIO())

    assert "deleted nothing" in out.getvalue()
    record = PurgeRecord.objects.get()
    assert (record.trigger, record.deleted) == ("command", {})
    assert Case.objects.filter(pk=case.pk).exists()


# --- the daily beat task --------------------------------------------------------------------


def test_beat_runs_the_purge_daily_through_a_thin_task(build_case, settings):
    entry = settings.CELERY_BEAT_SCHEDULE["referrals-purge-expired"]
    assert entry["task"] == purge_expired.name == "referrals.purge_expired"
    assert entry["schedule"] == 24 * 3600
    assert entry["options"]["expires"] <= 24 * 3600
    world = build_case(full=False)

    purge_expired.delay()

    assert not Case.objects.filter(pk=world.case.pk).exists()
    record = PurgeRecord.objects.get()
    assert record.trigger == "schedule"
    assert record.deleted["screening_case"] == 1


def test_a_value_that_no_longer_decrypts_does_not_keep_a_case_past_its_period(build_case):
    """Deleting needs no plaintext: a tampered or orphaned value is purged like any other."""
    world = build_case()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(Case._meta.db_table)} SET narrative = %s "  # noqa: S608
            "WHERE id = %s",
            ["$e1$gone$" + "A" * 40, world.case.pk],
        )

    expired_records_purge(trigger="command")

    assert not Case.objects.filter(pk=world.case.pk).exists()
    assert not Case.history.model.objects.filter(id=world.case.pk).exists()
