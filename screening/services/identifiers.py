"""Writes for the identifier digests behind duplicate detection (docs/duplicates.md).

A case's digests come from its identifying phone, name and documents; a contact's from its
caller's phone and name. They are replaced whenever those change, in the caller's
transaction, so a changed name stops matching at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from config.crypto import DecryptionError
from screening.identifiers import Identifier, identifiers_of
from screening.models import Case, Contact, IdentifierDigest


def case_identifiers(case: Case) -> list[Identifier]:
    return identifiers_of(
        phone=case.identifying_phone,
        name=case.identifying_name,
        documents=case.identifying_documents,
        region=settings.PHONE_DEFAULT_REGION,
    )


def contact_identifiers(contact: Contact) -> list[Identifier]:
    return identifiers_of(
        phone=contact.caller_phone, name=contact.caller_name, region=settings.PHONE_DEFAULT_REGION
    )


def identifier_digests_store(
    *, case: Case | None = None, contact: Contact | None = None, created: bool = False
) -> list[str]:
    """Make the record's digests match its current identifying values; returns the digests.

    One DELETE (left out for a record just `created`, which has none) and one bulk INSERT
    (left out when there is nothing to digest). Call inside the transaction that saves the
    record."""
    if (case is None) == (contact is None):
        raise TypeError("Give a case or a contact")
    if case is not None:
        identifiers, owner = case_identifiers(case), {"case": case}
    else:
        identifiers, owner = contact_identifiers(contact), {"contact": contact}
    if not created:
        IdentifierDigest.objects.filter(**owner).delete()
    rows = [
        IdentifierDigest(kind=identifier.kind, digest=identifier.digest(), **owner)
        for identifier in identifiers
    ]
    if rows:
        IdentifierDigest.objects.bulk_create(rows)
    return [row.digest for row in rows]


@dataclass
class RebuildReport:
    """What `identifier_digests_rebuild` did for one table: counts, and the rows whose values
    did not decrypt (by table, column and row id; never a value)."""

    table: str
    records: int = 0
    digests: dict[str, int] = field(default_factory=dict)
    failures: list[DecryptionError] = field(default_factory=list)


_SOURCES: tuple[tuple[type[Case] | type[Contact], str, tuple[str, ...]], ...] = (
    (Case, "case", ("identifying_name", "identifying_phone", "identifying_documents")),
    (Contact, "contact", ("caller_name", "caller_phone")),
)


def identifier_digests_rebuild(
    *, batch_size: int = 500, on_batch: Callable[[int], object] = lambda count: None
) -> list[RebuildReport]:
    """Recompute every case's and contact's digests from their decrypted values: after
    BLIND_INDEX_KEY changed (the old digests match nothing), or for rows stored before the
    digests existed. One transaction per batch (a DELETE and a bulk INSERT); a rerun after an
    interruption gives the same result. A row that does not decrypt keeps its old digests and
    is reported."""
    reports = []
    for model, owner, fields in _SOURCES:
        report = RebuildReport(table=model._meta.db_table)
        identifiers_of_record = case_identifiers if model is Case else contact_identifiers
        last_pk = 0
        while True:
            with transaction.atomic():
                batch = list(
                    model.objects.filter(pk__gt=last_pk)
                    .order_by("pk")
                    .only("pk", "row_uid", *fields)[:batch_size]
                )
                if not batch:
                    break
                last_pk = batch[-1].pk
                rows, rebuilt = [], []
                for record in batch:
                    try:
                        identifiers = identifiers_of_record(record)
                    except DecryptionError as error:
                        report.failures.append(error)
                        continue
                    rebuilt.append(record.pk)
                    for identifier in identifiers:
                        rows.append(
                            IdentifierDigest(
                                kind=identifier.kind, digest=identifier.digest(), **{owner: record}
                            )
                        )
                        report.digests[identifier.kind] = report.digests.get(identifier.kind, 0) + 1
                IdentifierDigest.objects.filter(**{f"{owner}_id__in": rebuilt}).delete()
                IdentifierDigest.objects.bulk_create(rows)
                report.records += len(rebuilt)
            on_batch(len(batch))
        reports.append(report)
    return reports
