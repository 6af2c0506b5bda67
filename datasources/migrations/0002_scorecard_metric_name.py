"""The scorecard's external-data metric, seeded while it had no data source, takes the name of
its figure now that the external sources record their answers (an administrator's own name is
kept)."""

from django.db import migrations

FORMER_NAME = (
    "Share of cases decided on external data (no data source yet)",
    "依据外部数据决策的案件占比（暂无数据来源）",
)
NEW_NAME = ("Share of cases decided on external data", "依据外部数据决策的案件占比")


def rename_scorecard_metric(apps, schema_editor):
    ScorecardMetric = apps.get_model("analytics", "ScorecardMetric")
    metrics = ScorecardMetric.objects.filter(figure="external_data_share")
    metrics.filter(name=FORMER_NAME[0]).update(name=NEW_NAME[0])
    metrics.filter(name_zh=FORMER_NAME[1]).update(name_zh=NEW_NAME[1])


class Migration(migrations.Migration):
    dependencies = [
        ("datasources", "0001_initial"),
        ("analytics", "0006_scorecard_metric_records"),
    ]

    operations = [migrations.RunPython(rename_scorecard_metric, migrations.RunPython.noop)]
