"""Issue 12: the outbox moves down to config/ (core), and a delivery marks itself in flight.

`core.OutboxMessage` (core 0007, table `core_outboxmessage`) names its subject by model and
id, with no foreign key up into an app, and one row per subscribing task. Rather than rename
and reshape the old table in place (its two foreign keys, its check constraint and its topics
all change), this migration copies every row, pending and completed, into the new table and
drops the old one: the outbox is small (completed rows are purged after RETENTION_OUTBOX_DAYS)
and the copy keeps each row's lease, counters and completion, so nothing is published twice
or lost. Topics map to the new ones (`dispatch_referral` → `referral.dispatch`,
`discard_referral` → `referral.discard`, `route_screening` → `screening.submitted`: routing
again is what both asked for). Rows get new ids; no task carried the old ones.

Stop the web and worker processes of the old code before migrating (as for any release): an
old process writing to the dropped table would fail. The reverse copies the rows of those
three topics back, and refuses while a `consent.*` event is still open, since the old code
has no handler for it (let the relay finish them first).

`Referral.delivery_started_at`: set while an attempt is on its way, since the send no longer
holds the referral's row lock (referrals/services/delivery.py).
"""

from django.db import migrations, models

# old topic -> (new topic, subscribing task, subject model, old foreign-key column)
TOPICS = {
    "dispatch_referral": (
        "referral.dispatch",
        "referrals.dispatch_referral",
        "referrals.referral",
        "referral_id",
    ),
    "discard_referral": (
        "referral.discard",
        "referrals.notify_referral_discard",
        "referrals.referral",
        "referral_id",
    ),
    "route_screening": (
        "screening.submitted",
        "referrals.route_screening",
        "screening.screening",
        "screening_id",
    ),
}
KEPT = (
    "created_at",
    "available_at",
    "published_at",
    "publish_count",
    "publish_failures",
    "last_error",
    "completed_at",
)
BATCH = 2000


def outbox_to_core(apps, schema_editor):
    Old = apps.get_model("referrals", "OutboxMessage")
    New = apps.get_model("core", "OutboxMessage")
    alias = schema_editor.connection.alias
    batch = []
    for row in Old.objects.using(alias).order_by("pk").iterator(chunk_size=BATCH):
        topic, handler, subject_type, column = TOPICS[row.topic]
        batch.append(
            New(
                topic=topic,
                handler=handler,
                subject_type=subject_type,
                subject_id=getattr(row, column),
                **{name: getattr(row, name) for name in KEPT},
            )
        )
        if len(batch) >= BATCH:
            New.objects.using(alias).bulk_create(batch)
            batch = []
    New.objects.using(alias).bulk_create(batch)


def outbox_back_to_referrals(apps, schema_editor):
    Old = apps.get_model("referrals", "OutboxMessage")
    New = apps.get_model("core", "OutboxMessage")
    alias = schema_editor.connection.alias
    rows = New.objects.using(alias)
    if rows.filter(topic__startswith="consent.", completed_at__isnull=True).exists():
        raise RuntimeError(
            "open consent.* outbox events: run the relay until they are done, then migrate back"
        )
    back = {new_topic: (old, column) for old, (new_topic, _, _, column) in TOPICS.items()}
    batch = []
    for row in rows.filter(topic__in=back).order_by("pk").iterator(chunk_size=BATCH):
        old_topic, column = back[row.topic]
        batch.append(
            Old(
                topic=old_topic,
                **{column: row.subject_id},
                **{name: getattr(row, name) for name in KEPT},
            )
        )
    Old.objects.using(alias).bulk_create(batch)
    rows.filter(topic__in=back).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0007_outbox_message"),
        ("referrals", "0003_scale_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="delivery_started_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(outbox_to_core, outbox_back_to_referrals),
        migrations.DeleteModel(
            name="OutboxMessage",
        ),
    ]
