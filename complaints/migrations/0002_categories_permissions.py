"""The default complaint categories (complaints.defaults); the new permissions for role
groups that exist already (a new database gets them from org.roles.ROLE_PERMISSIONS through
sync_role_groups); and the scorecard's complaints metric, seeded while it had no data source,
renamed where its name is still the one it was seeded with."""

from django.db import migrations

from complaints.defaults import DEFAULT_CATEGORIES

PERMISSIONS = {
    "file_complaint": (
        "Can file a complaint for their company on the portal",
        ["applicant"],
    ),
    "record_complaint": (
        "Can record a complaint received by phone, letter or in branch",
        ["relationship_manager", "branch_head"],
    ),
    "handle_complaint": (
        "Can acknowledge, resolve and reject complaints",
        ["relationship_manager", "branch_head"],
    ),
}

FORMER_NAME = ("Complaints (no data source yet)", "投诉（暂无数据来源）")
NEW_NAME = ("Complaints received in the period", "本期受理投诉数")


def seed_categories(apps, schema_editor):
    ComplaintCategory = apps.get_model("complaints", "ComplaintCategory")
    for order, (code, name, name_zh) in enumerate(DEFAULT_CATEGORIES):
        ComplaintCategory.objects.get_or_create(
            code=code, defaults={"name": name, "name_zh": name_zh, "order": order}
        )


def grant_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    if not Group.objects.exists():
        return  # a new database: org.roles.sync_role_groups makes them with the permissions
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label="complaints", model="complaint")
    for codename, (name, roles) in PERMISSIONS.items():
        permission, _ = Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
        for group in Group.objects.filter(name__in=roles):
            group.permissions.add(permission)


def rename_scorecard_metric(apps, schema_editor):
    ScorecardMetric = apps.get_model("analytics", "ScorecardMetric")
    ScorecardMetric.objects.filter(figure="complaints", name=FORMER_NAME[0]).update(
        name=NEW_NAME[0]
    )
    ScorecardMetric.objects.filter(figure="complaints", name_zh=FORMER_NAME[1]).update(
        name_zh=NEW_NAME[1]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0001_initial"),
        ("analytics", "0006_scorecard_metric_records"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(seed_categories, migrations.RunPython.noop),
        migrations.RunPython(grant_permissions, migrations.RunPython.noop),
        migrations.RunPython(rename_scorecard_metric, migrations.RunPython.noop),
    ]
