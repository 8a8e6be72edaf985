"""Issue 12: the transactional outbox on the ground floor (config/outbox.py). Rows name their
subject by model and id, without a foreign key into an app; referrals 0004 copies the old
`referrals_outboxmessage` rows here and drops that table."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_api_token_from_screening"),
    ]

    operations = [
        migrations.CreateModel(
            name="OutboxMessage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("topic", models.CharField(max_length=64)),
                ("handler", models.CharField(max_length=100)),
                ("subject_type", models.CharField(max_length=100)),
                ("subject_id", models.PositiveBigIntegerField()),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("available_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("published_at", models.DateTimeField(blank=True, null=True)),
                ("publish_count", models.PositiveIntegerField(default=0)),
                ("publish_failures", models.PositiveIntegerField(default=0)),
                ("last_error", models.CharField(blank=True, max_length=200)),
                ("completed_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ["available_at", "pk"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("completed_at__isnull", True)),
                        fields=["available_at"],
                        name="core_outbox_due_idx",
                    ),
                    models.Index(
                        fields=["subject_type", "subject_id"], name="core_outbox_subject_idx"
                    ),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("topic", ""), _negated=True),
                            models.Q(("handler", ""), _negated=True),
                            models.Q(("subject_type", ""), _negated=True),
                        ),
                        name="outbox_message_named",
                    )
                ],
            },
        ),
    ]
