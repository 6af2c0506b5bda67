"""The SLA policies of a change to a live loan's own steps (issue 29): the light review and
the supplementary agreement, for a bank that already has its policies."""

from django.db import migrations

POLICIES = {"change_review": 3, "change_agreement": 5}


def add(apps, schema_editor):
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    if not SlaPolicy.objects.exists():
        return  # a fresh database: seeded with the others (sla.demo)
    for step, days in POLICIES.items():
        SlaPolicy.objects.get_or_create(
            step=step,
            product=None,
            defaults={"target": days, "unit": "days", "reminder_percent": 75,
                      "escalation2_after_hours": 8},
        )


def remove(apps, schema_editor):
    apps.get_model("sla", "SlaPolicy").objects.filter(step__in=POLICIES, product=None).delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0003_fire_index_for_prepared_statements")]
    operations = [migrations.RunPython(add, remove)]
