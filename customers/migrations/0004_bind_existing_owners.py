"""Every owner who could log in before company bindings existed keeps their company: an
active binding for each applicant profile with a company. And the roles that confirm and
revoke bindings get the two new permissions in databases whose role groups exist already
(a new database creates them with org.roles.ROLE_PERMISSIONS)."""

from django.db import migrations
from django.utils import timezone

ROLES = ("relationship_manager", "branch_head")
PERMISSIONS = {
    "confirm_companybinding": "Can confirm a pending company binding",
    "revoke_companybinding": "Can revoke a company binding",
}


def bind_existing_owners(apps, schema_editor):
    ApplicantProfile = apps.get_model("customers", "ApplicantProfile")
    CompanyBinding = apps.get_model("customers", "CompanyBinding")
    CompanyBinding.objects.bulk_create(
        CompanyBinding(
            user_id=profile.user_id,
            company_id=profile.company_id,
            status="active",
            representative_name="",
            representative_id="",
            details_matched=None,
            decided_at=timezone.now(),
            reason="Bound by the bank before owners could bind companies themselves.",
        )
        for profile in ApplicantProfile.objects.exclude(company=None).iterator()
    )


def grant_binding_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    groups = list(Group.objects.filter(name__in=ROLES))
    if not groups:
        return  # a new database: org.roles.sync_role_groups makes them with the permissions
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(
        app_label="customers", model="companybinding"
    )
    permissions = [
        Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )[0]
        for codename, name in PERMISSIONS.items()
    ]
    for group in groups:
        group.permissions.add(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0003_company_bindings"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(bind_existing_owners, migrations.RunPython.noop),
        migrations.RunPython(grant_binding_permissions, migrations.RunPython.noop),
    ]
