"""The facilities' permissions for role groups that exist already (a new database gets them
from org.roles.ROLE_PERMISSIONS through sync_role_groups)."""

from django.db import migrations

PERMISSIONS = {
    "freeze_facility": (
        "Can freeze, unfreeze and close credit facilities",
        ["risk_officer"],
    ),
    "approve_drawdown": (
        "Can approve drawdowns under a facility",
        ["approver", "risk_officer"],
    ),
}


def grant_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    if not Group.objects.exists():
        return
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label="facilities", model="facility")
    for codename, (name, roles) in PERMISSIONS.items():
        permission, _ = Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
        for group in Group.objects.filter(name__in=roles):
            group.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("facilities", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_permissions, migrations.RunPython.noop)]
