from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0007_user_mfa_reset_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="session_generation",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
    ]
