"""A closed referral always says what came of it (issue 14): a check constraint. Every path to
"closed" goes through `referral_close` (the pages, the API, the provider callback) and
`referral_transition`, which refuses a closing without an outcome. Rows closed before outcomes
were recorded (and load data generated before the generator set them) are marked "other" so
that the constraint can be added."""

from django.db import migrations, models


def _closed_rows_get_an_outcome(apps, schema_editor):
    Referral = apps.get_model("referrals", "Referral")
    Referral.objects.filter(status="closed", outcome="").update(outcome="other")


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0008_place_referrals"),
    ]

    operations = [
        migrations.RunPython(_closed_rows_get_an_outcome, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="referral",
            constraint=models.CheckConstraint(
                condition=~models.Q(status="closed") | ~models.Q(outcome=""),
                name="referral_closed_has_outcome",
            ),
        ),
    ]
