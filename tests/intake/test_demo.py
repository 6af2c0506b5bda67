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
