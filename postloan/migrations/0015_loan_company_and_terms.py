"""Each loan carries its customer and current terms (rate, term), copied from its application,
so the book's figures (yield, margin, SME customers) read the loans without joining a million
applications (docs/performance.md). Added empty, filled from the applications in one UPDATE,
then required."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_from_applications(apps, schema_editor):
    Loan = apps.get_model("postloan", "Loan")
    LoanApplication = apps.get_model("applications", "LoanApplication")
    own = LoanApplication.objects.filter(pk=OuterRef("application_id"))
    Loan.objects.update(
        company_id=Subquery(own.values("company_id")[:1]),
        interest_rate=Subquery(own.values("interest_rate")[:1]),
        term_months=Subquery(own.values("term_months")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0009_analytics_cohort_and_terms_indexes"),
        ("customers", "0005_company_controlling_shareholder"),
        ("postloan", "0014_exposure_snapshot"),
    ]

    operations = [
        migrations.AddField(
            model_name="loan",
            name="company",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="customers.company",
                verbose_name="company",
            ),
        ),
        migrations.AddField(
            model_name="loan",
            name="interest_rate",
            field=models.DecimalField(
                decimal_places=3,
                max_digits=6,
                null=True,
                verbose_name="annual interest rate (%)",
            ),
        ),
        migrations.AddField(
            model_name="loan",
            name="term_months",
            field=models.PositiveIntegerField(null=True, verbose_name="term (months)"),
        ),
        migrations.RunPython(fill_from_applications, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="loan",
            name="company",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="customers.company",
                verbose_name="company",
            ),
        ),
        migrations.AlterField(
            model_name="loan",
            name="interest_rate",
            field=models.DecimalField(
                decimal_places=3, max_digits=6, verbose_name="annual interest rate (%)"
            ),
        ),
        migrations.AlterField(
            model_name="loan",
            name="term_months",
            field=models.PositiveIntegerField(verbose_name="term (months)"),
        ),
    ]
