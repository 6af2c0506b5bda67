"""The default contract templates (contracts.defaults), version 1 of each, active; and the new
permissions for role groups that exist already (a new database gets them from
org.roles.ROLE_PERMISSIONS through sync_role_groups)."""

from django.db import migrations
from django.utils import timezone

from contracts.defaults import DEFAULT_TEMPLATES

PERMISSIONS = {
    "prepare_contracts": (
        "Can prepare an application's contracts",
        ["relationship_manager"],
    ),
    "sign_contract": (
        "Can sign a contract as a party, or witness its signing",
        ["relationship_manager", "applicant"],
    ),
    "sign_for_bank": (
        "Can sign contracts for the bank (authorised signer)",
        ["branch_head"],
    ),
}


def seed_templates(apps, schema_editor):
    ContractTemplate = apps.get_model("contracts", "ContractTemplate")
    now = timezone.now()
    for kind, language, name, name_zh, body in DEFAULT_TEMPLATES:
        if ContractTemplate.objects.filter(kind=kind, language=language, product=None).exists():
            continue
        ContractTemplate.objects.create(
            kind=kind,
            language=language,
            version=1,
            name=name,
            name_zh=name_zh,
            body=body,
            is_active=True,
            activated_at=now,
        )


def grant_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    if not Group.objects.exists():
        return  # a new database: org.roles.sync_role_groups makes them with the permissions
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(
        app_label="contracts", model="contracttemplate"
    )
    for codename, (name, roles) in PERMISSIONS.items():
        permission, _ = Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
        for group in Group.objects.filter(name__in=roles):
            group.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(seed_templates, migrations.RunPython.noop),
        migrations.RunPython(grant_permissions, migrations.RunPython.noop),
    ]
