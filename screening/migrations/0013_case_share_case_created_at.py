# The case's creation time on each share, so that "cases shared with my agency" walks an
# index in the case lists' order (issue 12). Existing shares are filled from their case
# before the column becomes NOT NULL.

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def case_created_at_fill(apps, schema_editor):
    Case = apps.get_model("screening", "Case")
    CaseShare = apps.get_model("screening", "CaseShare")
    CaseShare.objects.using(schema_editor.connection.alias).update(
        case_created_at=Subquery(Case.objects.filter(pk=OuterRef("case_id")).values("created_at"))
    )


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0012_case_work"),
    ]

    operations = [
        migrations.AddField(
            model_name="caseshare",
            name="case_created_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(case_created_at_fill, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="caseshare",
            name="case_created_at",
            field=models.DateTimeField(),
        ),
        migrations.RemoveIndex(
            model_name="caseshare",
            name="case_share_agency",
        ),
        migrations.AddIndex(
            model_name="caseshare",
            index=models.Index(
                fields=["shared_with_agency", "case_created_at", "case"],
                name="case_share_agency_created",
            ),
        ),
    ]
