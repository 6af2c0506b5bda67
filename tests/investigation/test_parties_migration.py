"""Migration 0004 moves the investigation's own copies of guarantors and collateral onto the
application's records: each assessment completes the record it was typed from, or becomes a
record of the application; nothing is lost when the two tables go."""

from decimal import Decimal as D

import pytest

from tests.migrating import migrate, migrate_to_latest

BEFORE = [("investigation", "0003_guarantor_id_validator"), ("intake", "0001_initial")]
AFTER = [
    ("investigation", "0004_guarantors_collateral_are_the_applications"),
    ("intake", "0002_guarantor_collateral_assessment"),
]


@pytest.mark.django_db(transaction=True)
def test_the_investigations_guarantors_and_collateral_move_onto_the_applications_records(
    company, product, staff
):
    from tests.factories import ApplicationFactory

    application = ApplicationFactory(company=company, product=product, status="investigation")
    old = migrate(BEFORE)
    try:
        Guarantor = old.get_model("intake", "Guarantor")
        Collateral = old.get_model("intake", "Collateral")
        Investigation = old.get_model("investigation", "Investigation")
        investigation = Investigation.objects.create(application_id=application.pk)
        filed = Guarantor.objects.create(
            application_id=application.pk, name="Wang Wu", id_number="110101198001010010"
        )
        declared = Collateral.objects.create(
            application_id=application.pk,
            kind="equipment",
            description="Two lathes",
            declared_value=D("1000000"),
        )
        old.get_model("investigation", "GuarantorAssessment").objects.create(
            investigation=investigation,
            name="Wang Wu",
            id_number="110101198001010010",
            guaranteed_amount=D("800000"),
            own_exposure=D("100000"),
            intake_guarantor_id=filed.pk,
        )
        old.get_model("investigation", "GuarantorAssessment").objects.create(
            investigation=investigation,
            kind="company",
            name="Acme Guarantee Co.",
            id_number="91350100M000100Y43",
            guaranteed_amount=D("500000"),
            notes="found on the site visit",
        )
        old.get_model("investigation", "CollateralValuation").objects.create(
            investigation=investigation,
            collateral_type="equipment",
            description="Two lathes",
            valuation=D("900000"),
            valuation_date="2026-11-30",
            haircut_pct=D("40"),
            intake_collateral_id=declared.pk,
        )
    finally:
        new = migrate(AFTER)
        # Back to today's schema: AFTER is not every app's latest migration, and the tests
        # after this one (some in transactions of their own) need the whole schema.
        migrate_to_latest()
    from intake.models import Collateral as NowCollateral
    from intake.models import Guarantor as NowGuarantor

    guarantors = list(NowGuarantor.objects.filter(application=application).order_by("id"))
    assert [(g.pk, g.name, g.guaranteed_amount) for g in guarantors] == [
        (filed.pk, "Wang Wu", D("800000.00")),
        (guarantors[1].pk, "Acme Guarantee Co.", D("500000.00")),
    ]
    assert guarantors[0].own_exposure == D("100000.00")
    assert guarantors[1].kind == "company" and guarantors[1].notes == "found on the site visit"
    (item,) = NowCollateral.objects.filter(application=application)
    assert item.pk == declared.pk and item.declared_value == D("1000000.00")
    assert item.lendable_value == D("540000.00")
    assert "guarantorassessment" not in {m._meta.model_name for m in new.get_models()}
