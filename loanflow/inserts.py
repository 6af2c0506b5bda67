"""Inserting a model instance where a unique constraint makes the insert idempotent (an
application's offer, a subject's open SLA clock): one INSERT ... ON CONFLICT DO NOTHING
RETURNING, with no existence check before it and no savepoint around it (a plain INSERT that
failed would abort the caller's transaction).

Through loanflow.rawsql.insert_row: the fields' pre_save (auto_now_add included) and their
database preparation apply, as in Model.save; model signals are not sent."""

from loanflow.rawsql import insert_row


def insert_unless_conflict(instance) -> bool:
    """Insert `instance` unless a row conflicts with it on a unique constraint. True when it
    was inserted, with its primary key (and any other returned column) set; False when a
    conflicting row, committed or committed meanwhile by a concurrent transaction, stands."""
    return insert_row(instance, ignore_conflicts=True)
