"""The investigation no longer keeps its own copy of the guarantors and collateral: it completes
the application's records (intake.Guarantor, intake.Collateral). Each assessment is moved onto
the record it was typed from (intake_guarantor_id / intake_collateral_id, when that record still
belongs to the application), or becomes a record of the application; then the two tables go."""

from django.db import migrations


def move_to_application_records(apps, schema_editor):
    GuarantorAssessment = apps.get_model("investigation", "GuarantorAssessment")
    CollateralValuation = apps.get_model("investigation", "CollateralValuation")
    Guarantor = apps.get_model("intake", "Guarantor")
    Collateral = apps.get_model("intake", "Collateral")

    for row in GuarantorAssessment.objects.select_related("investigation").order_by("id"):
        application_id = row.investigation.application_id
        target = None
        if row.intake_guarantor_id:
            target = Guarantor.objects.filter(
                pk=row.intake_guarantor_id, application_id=application_id
            ).first()
        if target is None:
            target = Guarantor(
                application_id=application_id, kind=row.kind, name=row.name, relationship=""
            )
        target.id_number = row.id_number
        target.guaranteed_amount = row.guaranteed_amount
        target.own_exposure = row.own_exposure
        target.net_worth = row.net_worth
        target.currency = row.currency
        target.notes = row.notes
        target.save()

    for row in CollateralValuation.objects.select_related("investigation").order_by("id"):
        application_id = row.investigation.application_id
        target = None
        if row.intake_collateral_id:
            target = Collateral.objects.filter(
                pk=row.intake_collateral_id, application_id=application_id
            ).first()
        if target is None:
            target = Collateral(
                application_id=application_id,
                kind=row.collateral_type,
                description=row.description,
                declared_value=row.valuation,
                currency=row.currency,
            )
        target.valuation = row.valuation
        target.valuation_date = row.valuation_date
        target.haircut_pct = row.haircut_pct
        target.save()


def copy_back_to_investigation(apps, schema_editor):
    """Reverse: the assessed records of investigated applications become assessment rows."""
    GuarantorAssessment = apps.get_model("investigation", "GuarantorAssessment")
    CollateralValuation = apps.get_model("investigation", "CollateralValuation")
    Investigation = apps.get_model("investigation", "Investigation")
    Guarantor = apps.get_model("intake", "Guarantor")
    Collateral = apps.get_model("intake", "Collateral")
    investigations = dict(Investigation.objects.values_list("application_id", "id"))
    for g in Guarantor.objects.filter(
        guaranteed_amount__isnull=False, application_id__in=investigations
    ):
        GuarantorAssessment.objects.create(
            investigation_id=investigations[g.application_id],
            kind=g.kind,
            name=g.name,
            id_number=g.id_number,
            guaranteed_amount=g.guaranteed_amount,
            own_exposure=g.own_exposure,
            net_worth=g.net_worth,
            currency=g.currency,
            intake_guarantor_id=g.pk,
            notes=g.notes,
        )
    for c in Collateral.objects.filter(
        valuation__isnull=False, application_id__in=investigations
    ):
        CollateralValuation.objects.create(
            investigation_id=investigations[c.application_id],
            collateral_type=c.kind,
            description=c.description,
            valuation=c.valuation,
            valuation_date=c.valuation_date,
            haircut_pct=c.haircut_pct,
            currency=c.currency,
            intake_collateral_id=c.pk,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0002_guarantor_collateral_assessment"),
        ("investigation", "0003_guarantor_id_validator"),
    ]

    operations = [
        migrations.RunPython(move_to_application_records, copy_back_to_investigation),
        migrations.DeleteModel(name="GuarantorAssessment"),
        migrations.DeleteModel(name="CollateralValuation"),
    ]
