"""Inserting a model instance where a unique constraint makes the insert idempotent (an
application's offer, a subject's open SLA clock): one INSERT ... ON CONFLICT DO NOTHING
RETURNING, with no existence check before it and no savepoint around it (a plain INSERT that
failed would abort the caller's transaction).

Through the queryset's _insert, as Model.save and bulk_create insert (the fields' pre_save,
auto_now_add included, and their database preparation apply): bulk_create does not return the
id of a row that it may have ignored. Model signals are not sent."""

from django.db import connection
from django.db.models.constants import OnConflict


def insert_unless_conflict(instance) -> bool:
    """Insert `instance` unless a row conflicts with it on a unique constraint. True when it
    was inserted, with its primary key (and any other returned column) set; False when a
    conflicting row, committed or committed meanwhile by a concurrent transaction, stands."""
    model = type(instance)
    meta = model._meta
    fields = [field for field in meta.local_concrete_fields if not field.generated
              and not (field.primary_key and getattr(instance, field.attname) is None)]
    returning = meta.db_returning_fields
    rows = model._base_manager._insert([instance], fields=fields, returning_fields=returning,
                                       on_conflict=OnConflict.IGNORE)
    if not rows or rows[0] is None:
        return False
    for value, field in zip(rows[0], returning, strict=True):
        setattr(instance, field.attname, value)
    instance._state.adding, instance._state.db = False, connection.alias
    return True
