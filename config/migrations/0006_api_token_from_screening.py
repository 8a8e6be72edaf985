"""The API token model moves from the screening app to core (config/): state only.

The table keeps its name (`screening_apitoken`, Meta.db_table), so no row is copied, no table
is renamed or locked, and every existing token keeps working; screening 0010 then removes the
model from screening's state. The access log's foreign key points at core.ApiToken: the same
table and column, so that too is a change of state only. The content type (and the
permissions that hang on it) follows the model.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _content_type_move(apps, schema_editor, *, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    types = ContentType.objects.using(schema_editor.connection.alias)
    if not types.filter(app_label=target, model="apitoken").exists():
        types.filter(app_label=source, model="apitoken").update(app_label=target)


def content_type_to_core(apps, schema_editor) -> None:
    _content_type_move(apps, schema_editor, source="screening", target="core")


def content_type_to_screening(apps, schema_editor) -> None:
    _content_type_move(apps, schema_editor, source="core", target="screening")


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('core', '0005_access_log_break_glass_outcome'),
        ('screening', '0009_merge_20261201_2319'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ApiToken',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100)),
                        ('prefix', models.CharField(max_length=16, unique=True)),
                        ('secret_hash', models.CharField(max_length=64)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('expires_at', models.DateTimeField()),
                        ('revoked_at', models.DateTimeField(blank=True, null=True)),
                        ('last_used_at', models.DateTimeField(blank=True, null=True)),
                        ('form_request_id', models.CharField(blank=True, default='', max_length=64)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_tokens', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'screening_apitoken',
                        'ordering': ['-created_at', '-pk'],
                        'constraints': [
                            models.CheckConstraint(condition=models.Q(('name', ''), _negated=True), name='api_token_name_required'),
                            models.UniqueConstraint(condition=models.Q(('form_request_id', ''), _negated=True), fields=('user', 'form_request_id'), name='api_token_one_per_form'),
                        ],
                    },
                ),
                migrations.AlterField(
                    model_name='accesslogentry',
                    name='api_token',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='core.apitoken'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_to_core, content_type_to_screening, elidable=True),
    ]
