"""Plain SQL over the models' own columns, for the few reads that nearly every request makes
(authentication, the approval queue page), where composing the query through the ORM cost
several times what running it did.

The SQL is written from the models' fields (table and column names, quoted by the backend),
and each value comes back as the ORM would return it: the fields' and the backend's
converters are applied (SQLite returns dates as text and decimals as floats)."""

from django.db import connection


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
