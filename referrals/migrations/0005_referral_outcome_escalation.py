"""Referrals to the end (issue 14): a closed referral's outcome and who closed it, why a
referral was escalated and since when its status stands; the supervisor queue's rank now
takes in every escalated delivered referral (acknowledged, accepted, services started), not
only sent ones. A stored generated column cannot be altered in place: it is dropped with its
index and added again with the new expression (the database rewrites the table once)."""

from django.db import migrations, models
from django.db.models import F


def status_changed_from_updated(apps, schema_editor):
    Referral = apps.get_model("referrals", "Referral")
    Referral.objects.filter(status_changed_at__isnull=True).update(
        status_changed_at=F("updated_at")
    )


OUTCOMES = [
    ("services_delivered", "Services delivered"),
    ("person_declined", "The person declined the services"),
    ("not_reached", "The person could not be reached"),
    ("not_eligible", "Not eligible"),
    ("moved_away", "The person moved away"),
    ("other", "Other (explained in the note)"),
]
CLOSED_BY = [("provider", "The provider"), ("referring_agency", "The referring agency")]
ESCALATION_REASONS = [
    ("approval_overdue", "Not approved by its due time"),
    ("consent_overdue", "Blocked for consent too long"),
    ("answer_overdue", "The provider has not answered in time"),
    ("start_overdue", "Accepted, services not started in time"),
    ("manual", "Escalated by hand"),
]


def _fields(model_name):
    return [
        migrations.AddField(
            model_name=model_name,
            name="closed_by",
            field=models.CharField(blank=True, choices=CLOSED_BY, max_length=24),
        ),
        migrations.AddField(
            model_name=model_name,
            name="escalation_reason",
            field=models.CharField(blank=True, choices=ESCALATION_REASONS, max_length=32),
        ),
        migrations.AddField(
            model_name=model_name,
            name="outcome",
            field=models.CharField(blank=True, choices=OUTCOMES, max_length=32),
        ),
        migrations.AddField(
            model_name=model_name,
            name="status_changed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0004_outbox_to_core_delivery_in_flight"),
    ]

    operations = [
        *_fields("historicalreferral"),
        *_fields("referral"),
        migrations.RunPython(status_changed_from_updated, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="referral", name="referral_waiting_queue"),
        migrations.RemoveField(model_name="referral", name="queue_rank"),
        migrations.AddField(
            model_name="referral",
            name="queue_rank",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Case(
                    models.When(status="failed", then=models.Value(0)),
                    models.When(
                        models.Q(
                            ("status__in", ("pending_approval", "blocked_needs_consent")),
                            models.Q(
                                ("escalated_at__isnull", False),
                                (
                                    "status__in",
                                    ("sent", "acknowledged", "accepted", "services_started"),
                                ),
                            ),
                            _connector="OR",
                        ),
                        then=models.Value(1),
                    ),
                    default=models.Value(None),
                    output_field=models.PositiveSmallIntegerField(null=True),
                ),
                output_field=models.PositiveSmallIntegerField(null=True),
            ),
        ),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                condition=models.Q(("queue_rank__isnull", False)),
                fields=["case_agency", "queue_rank", "priority", "due_at", "id"],
                name="referral_waiting_queue",
            ),
        ),
    ]
