"""The first pricing parameters, active: a Chinese commercial bank's SME book (cost of funds
near the one-year deposit and interbank rates, rising with the term; the standardised
approach's 75% risk weight for SME retail exposures; a 10.5% capital ratio, 8% plus the
conservation buffer; a 12% hurdle). Existing committee and risk officer groups are given
the permission to approve below the floor (a new database gets it from org.roles)."""

from decimal import Decimal

from django.db import migrations
from django.utils import timezone

CURVE = [
    {"max_term_months": 6, "pct": "1.80"},
    {"max_term_months": 12, "pct": "1.95"},
    {"max_term_months": 36, "pct": "2.25"},
    {"max_term_months": 60, "pct": "2.45"},
    {"max_term_months": 120, "pct": "2.60"},
]
ROLES = ["committee_member", "risk_officer"]


def seed(apps, schema_editor):
    PricingVersion = apps.get_model("pricing", "PricingVersion")
    if not PricingVersion.objects.exists():
        PricingVersion.objects.create(
            number=1,
            name="SME 2026",
            is_active=True,
            activated_at=timezone.now(),
            cost_of_funds_curve=CURVE,
            operating_cost_pct=Decimal("1.0"),
            unsecured_lgd_pct=Decimal("45"),
            guarantee_credit_pct=Decimal("50"),
            risk_weight_pct=Decimal("75"),
            capital_ratio_pct=Decimal("10.5"),
            target_return_pct=Decimal("12"),
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
