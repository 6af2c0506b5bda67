"""On PostgreSQL, LoanFlow's connections prepare the statements they repeat, so a request's
queries are planned once per connection, not on every request."""

import pytest
from django.db import connection

from applications.models import Product

pytestmark = pytest.mark.django_db


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_repeated_query_is_prepared_on_its_connection():
    assert connection.vendor == "postgresql"
    assert connection.settings_dict["OPTIONS"]["server_side_binding"] is True
    for code in ("A", "B", "C"):
        list(Product.objects.filter(code=f"NOPE-{code}"))
    prepared = [sql for sql in _prepared_statements() if "applications_product" in sql]
    assert len(prepared) == 1
    # One plan for every value: the parameter is bound on the server.
    assert "$1" in prepared[0]
