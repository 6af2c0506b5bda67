"""The first pricing parameters, active (pricing.defaults). Existing committee and risk
officer groups are given the permission to approve below the floor (a new database gets it
from org.roles)."""

from django.db import migrations
from django.utils import timezone

from pricing.defaults import DEFAULT_VERSION

ROLES = ["committee_member", "risk_officer"]


def seed(apps, schema_editor):
    PricingVersion = apps.get_model("pricing", "PricingVersion")
    if not PricingVersion.objects.exists():
        PricingVersion.objects.create(
            is_active=True, activated_at=timezone.now(), **DEFAULT_VERSION
        )
    Group = apps.get_model("auth", "Group")
    groups = list(Group.objects.filter(name__in=ROLES))
    if not groups:
        return  # a new database: org.roles.sync_role_groups makes them with the permission
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(
        app_label="pricing", model="pricingversion"
    )
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type,
        codename="approve_below_floor",
        defaults={"name": "Can approve a rate below the pricing floor"},
    )
    for group in groups:
        group.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("pricing", "0001_pricing_versions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
