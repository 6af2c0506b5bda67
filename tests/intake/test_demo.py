import pytest

from applications.models import Product
from intake import demo
from intake.models import ChecklistItem, NegativeListEntry, PrescreenRule

pytestmark = pytest.mark.django_db


def test_the_demo_configuration_is_seeded_once():
    demo.seed()
    demo.seed()
    assert set(Product.objects.values_list("code", flat=True)) >= {"SME-WC", "SME-EQ", "SME-FT"}
    assert ChecklistItem.objects.count() == len(demo.CHECKLISTS)
    assert PrescreenRule.objects.count() == 4
    assert NegativeListEntry.objects.count() == 2
    assert Product.objects.get(code="SME-WC").version == 1


def test_the_migration_gives_a_bank_seeded_before_it_the_demos_texts_in_both_languages():
    from importlib import import_module

    from django.apps import apps

    from intake.models import DocumentType

    migration = import_module("intake.migrations.0004_published_criteria_in_both_languages")
    Product.objects.create(
        code="SME-WC",
        name="SME working capital loan",
        min_amount=1,
        max_amount=2,
        min_term_months=1,
        max_term_months=2,
        min_rate=1,
        max_rate=2,
    )
    Product.objects.create(
        code="SME-FT",
        name="Fast small credit",
        description="Our own words.",
        min_amount=1,
        max_amount=2,
        min_term_months=1,
        max_term_months=2,
        min_rate=1,
        max_rate=2,
    )
    DocumentType.objects.create(
        code="business_licence",
        name="Business licence",
        description="A scan of the business licence.",
    )
    migration.fill_demo_texts(apps, None)
    working_capital = Product.objects.get(code="SME-WC")
    assert working_capital.description.startswith("For day-to-day running costs")
    assert working_capital.description_zh.startswith("用于日常经营周转")
    # An administrator's own text stays, and is not given a translation of another.
    fast = Product.objects.get(code="SME-FT")
    assert (fast.description, fast.description_zh) == ("Our own words.", "")
    assert DocumentType.objects.get(code="business_licence").description_zh == "营业执照扫描件。"
