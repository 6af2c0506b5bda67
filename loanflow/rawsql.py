"""Plain SQL over the models' own columns, for the few reads and writes that nearly every
request or transition makes (authentication, the approval queue page, the audit row, the task
a decision closes), where composing the query through the ORM cost several times what running
it did.

The SQL is written from the models' fields (table and column names, quoted by the backend),
and each value comes back as the ORM would return it: the fields' and the backend's
converters are applied (SQLite returns dates as text and decimals as floats). Writes prepare
each value as Model.save does (the field's pre_save, auto_now included, then its database
preparation); no model signal is sent."""

import functools

from django.db import DatabaseError, connection


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def table(model) -> str:
    return quote(model._meta.db_table)


def column(alias: str, field) -> str:
    return f"{alias}.{quote(field.column)}"


class Columns:
    """A SELECT list of (alias, field) pairs and the converters of each of its columns."""

    def __init__(self, pairs):
        pairs = tuple(pairs)
        self.sql = ", ".join(column(alias, field) for alias, field in pairs)
        self._converters = []
        for alias, field in pairs:
            expression = field.get_col(alias)
            functions = tuple(connection.ops.get_db_converters(expression)
                              + expression.get_db_converters(connection))
            self._converters.append((expression, functions) if functions else None)

    def convert(self, row) -> list:
        values = []
        for value, converter in zip(row, self._converters, strict=True):
            if value is not None and converter is not None:
                expression, functions = converter
                for function in functions:
                    value = function(value, expression, connection)
            values.append(value)
        return values


def model_columns(model, alias: str) -> list:
    """(alias, field) for each of the model's columns, in the order Model.from_db takes."""
    return [(alias, field) for field in model._meta.concrete_fields]


def instance(model, values):
    """The model instance from its columns' values (None for a LEFT JOIN that found no row)."""
    pk = model._meta.concrete_fields.index(model._meta.pk)
    return None if values[pk] is None else model.from_db(connection.alias, None, values)


def instances(read, values) -> dict:
    """The instances of `read` ((model, alias) pairs, in the order of their columns in
    `values`), by alias."""
    loaded = {}
    for model, alias in read:
        width = len(model._meta.concrete_fields)
        loaded[alias], values = instance(model, values[:width]), values[width:]
    return loaded


def fetch_instances(sql: str, params: list, columns: Columns, read) -> dict | None:
    """Run a SELECT of `read`'s columns ((model, alias) pairs, as `columns` lists them) and
    give its first row's instances by alias (None when it found no row)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else instances(read, columns.convert(row))


def insert_row(instance, *, ignore_conflicts: bool = False) -> bool:
    """INSERT the new instance's row (its primary key set from RETURNING); with
    `ignore_conflicts`, unless a row conflicts with it on a unique constraint (ON CONFLICT DO
    NOTHING): False then, and the instance stays unsaved."""
    model = type(instance)
    with_pk = getattr(instance, model._meta.pk.attname) is not None
    sql, fields = _insert_sql(model, with_pk, ignore_conflicts)
    values = [field.get_db_prep_save(field.pre_save(instance, True), connection)
              for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    for value, field in zip(row, model._meta.db_returning_fields, strict=True):
        setattr(instance, field.attname, value)
    instance._state.adding, instance._state.db = False, connection.alias
    return True


@functools.cache
def _insert_sql(model, with_pk: bool, ignore_conflicts: bool) -> tuple[str, list]:
    meta = model._meta
    fields = [field for field in meta.local_concrete_fields
              if not field.generated and (with_pk or not field.primary_key)]
    returning = ", ".join(quote(field.column) for field in meta.db_returning_fields)
    return (f"INSERT INTO {table(model)} ({', '.join(quote(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})"
            f"{' ON CONFLICT DO NOTHING' if ignore_conflicts else ''} RETURNING {returning}",
            fields)


def update_row(instance, fields: list[str]) -> None:
    """UPDATE these fields of the instance's row, as save(update_fields=fields) does."""
    sql, concrete = _update_sql(type(instance), tuple(fields))
    values = [field.get_db_prep_save(field.pre_save(instance, False), connection)
              for field in concrete]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, instance.pk])
        if cursor.rowcount == 0:
            raise DatabaseError("Save with update_fields did not affect any rows.")


@functools.cache
def _update_sql(model, names: tuple[str, ...]) -> tuple[str, list]:
    meta = model._meta
    concrete = [meta.get_field(name) for name in names]
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in concrete)
    return (f"UPDATE {table(model)} SET {assignments} WHERE {quote(meta.pk.column)} = %s",
            concrete)
