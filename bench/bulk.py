"""Bulk loading through the project's own models: rows are dicts keyed by field name, completed
with each field's default and written with PostgreSQL COPY in the model's own columns (a
column with a database default and no value in the rows is left to the database: the audit
trail's chain, filled in by its insert trigger)."""

import json
from collections.abc import Iterable
from decimal import Decimal

from django.db import connection, models


def _columns(model: type[models.Model], sample: dict) -> list[models.Field]:
    fields = []
    for field in model._meta.concrete_fields:
        if (
            isinstance(field, models.AutoField | models.BigAutoField)
            or field.db_default is not models.NOT_PROVIDED
        ) and field.attname not in sample:
            continue
        fields.append(field)
    return fields


def _value(field: models.Field, row: dict):
    if field.attname in row:
        value = row[field.attname]
    elif field.name in row:
        value = row[field.name]
        if isinstance(value, models.Model):
            value = value.pk
    elif field.has_default():
        value = field.get_default()
    elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        value = row.get("__now__")
    elif field.null:
        value = None
    else:
        value = "" if isinstance(field, models.CharField | models.TextField) else None
    if isinstance(field, models.JSONField) and value is not None:
        return json.dumps(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


def copy_rows(model: type[models.Model], rows: Iterable[dict], *, now=None) -> int:
    """COPY rows into the model's table; returns how many were written."""
    iterator = iter(rows)
    try:
        first = next(iterator)
    except StopIteration:
        return 0
    fields = _columns(model, first)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    count = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor underneath Django's wrapper
        with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in _chain(first, iterator):
                row.setdefault("__now__", now)
                copy.write_row([_value(f, row) for f in fields])
                count += 1
    return count


def _chain(first, rest):
    yield first
    yield from rest


def reset_sequence(model: type[models.Model]) -> None:
    table = model._meta.db_table
    pk = model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE(MAX({pk}), 1)) FROM {table}",
            [table, pk],
        )
