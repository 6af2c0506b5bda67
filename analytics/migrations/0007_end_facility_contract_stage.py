"""A facility application's signed contract opens no stage visit any more
(analytics.services.opens_visit): the contract activates its facility and nothing is paid out
on it. The visits already opened for it would stay open for the facility's life and count as
work in the stage: they go, as if recorded under the new rule."""

from django.db import migrations


def drop_open_facility_contract_visits(apps, schema_editor):
    StageVisit = apps.get_model("analytics", "StageVisit")
    StageVisit.objects.filter(
        stage="contract_signed",
        left_at__isnull=True,
        application__product__facility_terms__isnull=False,
        application__drawdown__isnull=True,
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0006_scorecard_metric_records"),
        ("facilities", "0003_pricing"),
    ]

    operations = [
        migrations.RunPython(drop_open_facility_contract_visits, migrations.RunPython.noop),
    ]
