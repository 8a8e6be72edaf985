from django.db import migrations

# Frozen here on purpose: a migration must not import the live Role enum, which may change.
ROLE_NAMES = [
    "frontline_officer",
    "social_worker",
    "supervisor",
    "hotline_staff",
    "agency_admin",
    "provider_staff",
]


def create_role_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLE_NAMES:
        Group.objects.get_or_create(name=name)


def remove_role_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=ROLE_NAMES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_role_groups, remove_role_groups)]
