from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0006_historicalcase_historicalconsent_historicalcontact_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicaluser",
            name="mfa_reset_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="two-step sign-in reset"
            ),
        ),
        migrations.AddField(
            model_name="user",
            name="mfa_reset_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="two-step sign-in reset"
            ),
        ),
    ]
