"""The API token model now lives in core (config/models.py, migration core 0006): it leaves
screening's state only. Its table, `screening_apitoken`, and its rows stay where they are."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0006_api_token_from_screening'),
        ('screening', '0009_merge_20261201_2319'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='ApiToken')],
            database_operations=[],
        ),
    ]
