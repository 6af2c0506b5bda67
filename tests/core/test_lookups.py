"""common.lookups.InLiteral: constant lists written into the SQL, nothing else."""

import pytest
from django.db.models import F

from applications.models import Product
from common.lookups import InLiteral

pytestmark = pytest.mark.django_db


def test_in_literal_writes_the_values_into_the_sql_and_filters_like_in(product):
    qs = Product.objects.filter(InLiteral(F("code"), (product.code, "NONE")))
    sql, params = qs.query.sql_with_params()
    assert f"IN ('{product.code}', 'NONE')" in sql
    assert product.code not in params
    assert list(qs) == [product]
    assert not Product.objects.filter(InLiteral(F("code"), ("NONE",))).exists()


@pytest.mark.parametrize("values", [("x'; DROP TABLE t; --",), ("a b",), (1,), ()])
def test_in_literal_refuses_anything_but_plain_constant_strings(values):
    with pytest.raises(ValueError):
        InLiteral(F("code"), values)
