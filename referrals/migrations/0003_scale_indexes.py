"""Issue 12: the queue and inbox filter on columns of the referral itself (the case's and the
provider's agency, the queue state computed by the database), each with a partial index in
list order."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0002_referralevent_row_uid_alter_referralevent_note_and_more"),
        ("screening", "0010_api_token_to_core"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="case_agency",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="screening.agency",
            ),
        ),
        migrations.AddField(
            model_name="referral",
            name="provider_agency",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="screening.agency",
            ),
        ),
        # Existing rows: the case's agency and the provider's, as routing now sets them.
        migrations.RunSQL(
            sql=[
                "UPDATE referrals_referral SET case_agency_id = (SELECT c.agency_id FROM"
                " screening_case c WHERE c.id = referrals_referral.case_id)",
                "UPDATE referrals_referral SET provider_agency_id = (SELECT p.agency_id FROM"
                " referrals_serviceprovider p WHERE p.id = referrals_referral.provider_id)",
            ],
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="referral",
            name="case_agency",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="screening.agency",
            ),
        ),
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
                            models.Q(("escalated_at__isnull", False), ("status", "sent")),
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
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                condition=models.Q(
                    ("status__in", ("sent", "acknowledged", "accepted", "services_started"))
                ),
                fields=["provider_agency", "priority", "due_at", "id"],
                name="referral_provider_inbox",
            ),
        ),
    ]
