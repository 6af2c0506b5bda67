"""PostgreSQL-level guarantees: one winner for concurrent transitions; an append-only trail."""

import threading

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from applications.services import application_transition
from audit.models import AuditEvent
from common.errors import Conflict
from tests.factories import ApplicationFactory


@pytest.mark.django_db(transaction=True)
def test_two_threads_taking_the_same_transition_at_once_make_one_winner_and_one_audit_row(
    staff, company
):
    application = ApplicationFactory(company=company, status="draft", filed_by=staff["rm"])
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def take():
        try:
            barrier.wait(timeout=10)
            application_transition(
                application_id=application.pk, transition="submit", actor=staff["rm"]
            )
            outcomes.append("won")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["conflict", "won"]
    assert AuditEvent.objects.filter(application=application, action="submit").count() == 1
    application.refresh_from_db()
    assert application.status == "submitted"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET comment = 'rewritten' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ],
)
def test_the_database_refuses_to_update_or_delete_audit_rows(staff, company, statement):
    application = ApplicationFactory(company=company, status="draft", filed_by=staff["rm"])
    application_transition(
        application_id=application.pk, transition="submit", actor=staff["rm"], comment="original"
    )
    event = AuditEvent.objects.get(application=application, action="submit")
    with (
        pytest.raises(DatabaseError, match="Cannot update or delete rows from audit_auditevent"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [event.pk])
    event.refresh_from_db()
    assert event.comment == "original"


@pytest.mark.django_db
def test_the_orm_cannot_rewrite_the_trail_either(staff, company):
    application = ApplicationFactory(company=company, status="draft", filed_by=staff["rm"])
    application_transition(application_id=application.pk, transition="submit", actor=staff["rm"])
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(application=application).update(comment="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(application=application).delete()
    assert AuditEvent.objects.filter(application=application).count() == 1


@pytest.mark.django_db
def test_many_audit_rows_go_in_as_one_statement_with_the_same_columns(
    staff, company, django_assert_num_queries
):
    from datetime import timedelta

    from django.utils import timezone

    from audit.services import audit_record, audit_record_many

    application = ApplicationFactory(company=company, filed_by=staff["rm"])
    earlier = timezone.now() - timedelta(hours=3)
    one = audit_record(
        action="sla_reminder",
        kind=AuditEvent.Kind.SLA,
        application=application,
        subject_type="sla.deadline",
        subject_id=7,
        comment="due 中文",
        data={"level": 0, "recipients": [1, 2]},
    )
    with django_assert_num_queries(1):
        written = audit_record_many(
            [
                {
                    "action": "sla_reminder",
                    "kind": AuditEvent.Kind.SLA,
                    "application_id": application.pk,
                    "subject_type": "sla.deadline",
                    "subject_id": 7,
                    "comment": "due 中文",
                    "data": {"level": 0, "recipients": [1, 2]},
                },
                {
                    "action": "note",
                    "actor_id": staff["rm"].pk,
                    "actor_role": "relationship_manager",
                },
            ]
        )
    assert written == 2
    # (Grouped by chain as they go in: a batch's rows of different chains may change order.)
    many = {event.action: event for event in AuditEvent.objects.filter(pk__gt=one.pk)}
    columns = (
        "kind",
        "application_id",
        "subject_type",
        "subject_id",
        "actor_id",
        "actor_role",
        "action",
        "from_state",
        "to_state",
        "comment",
        "data",
    )
    same = many["sla_reminder"]
    assert [getattr(same, name) for name in columns] == [getattr(one, name) for name in columns]
    assert same.at >= one.at and (same.chain, same.seq) == (one.chain, one.seq + 1)
    note = many["note"]
    assert (note.actor_id, note.actor_role, note.data) == (
        staff["rm"].pk,
        "relationship_manager",
        {},
    )
    assert audit_record_many([]) == 0
    # The database keeps the time; a caller cannot give one.
    with pytest.raises(ValueError, match="`at`"):
        audit_record_many([{"action": "note", "at": earlier}])
