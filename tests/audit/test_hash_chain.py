"""Each audit row is a link of its application's chain, stamped with the database's time."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditChainHead, AuditEvent
from audit.services import audit_history_import, audit_record, audit_record_many
from tests.factories import ApplicationFactory

LONG_AGO = timezone.now() - timedelta(days=400)


@pytest.mark.django_db
def test_each_application_has_its_own_chain_and_each_row_names_the_one_before(staff, company):
    first, second = ApplicationFactory(company=company), ApplicationFactory(company=company)
    a1 = audit_record(action="note", application=first, actor=staff["rm"])
    b1 = audit_record(action="note", application=second)
    a2 = audit_record(action="note", application=first)
    system = audit_record(action="login_unlock", kind=AuditEvent.Kind.ACTION)
    subject = audit_record(
        action="claim_expired", application=first, subject_type="approvals.task", subject_id=9
    )

    assert (a1.chain, a1.seq, a1.prev_hash) == (f"application:{first.pk}", 1, "")
    assert (a2.chain, a2.seq, a2.prev_hash) == (a1.chain, 2, a1.hash)
    assert (b1.chain, b1.seq, b1.prev_hash) == (f"application:{second.pk}", 1, "")
    # An event about a subject is chained with that subject's, whatever its application.
    assert (system.chain, subject.chain, subject.seq) == ("system", "approvals.task:9", 1)
    assert len({a1.hash, a2.hash, b1.hash}) == 3 and all(len(e.hash) == 64 for e in (a1, a2))
    head = AuditChainHead.objects.get(chain=a1.chain)
    assert (head.seq, head.hash) == (2, a2.hash)


@pytest.mark.django_db
def test_a_batch_is_chained_row_by_row_in_the_order_given_for_each_application(staff, company):
    application = ApplicationFactory(company=company)
    before = audit_record(action="note", application=application)
    audit_record_many(
        [
            {"action": f"step_{n}", "application_id": application.pk if n % 2 else None}
            for n in range(6)
        ]
    )
    trail = list(AuditEvent.objects.filter(application=application).order_by("seq"))
    assert [e.action for e in trail] == ["note", "step_1", "step_3", "step_5"]
    assert [e.prev_hash for e in trail[1:]] == [e.hash for e in trail[:-1]]
    assert trail[1].prev_hash == before.hash
    system = AuditEvent.objects.filter(chain="system").order_by("seq")
    assert [e.action for e in system] == ["step_0", "step_2", "step_4"]


@pytest.mark.django_db
def test_the_database_stamps_the_time_whatever_the_caller_gives(staff, company):
    application = ApplicationFactory(company=company)
    started = timezone.now()
    event = AuditEvent.objects.create(action="note", application=application, at=LONG_AGO)
    bulk = AuditEvent.objects.bulk_create([AuditEvent(action="note", at=LONG_AGO)])[0]
    for stamped in (event, bulk):
        stored = AuditEvent.objects.get(pk=stamped.pk)
        assert stored.at >= started - timedelta(seconds=5)
        assert stamped.at == stored.at
    with pytest.raises(ValueError):
        audit_record_many([{"action": "note", "at": LONG_AGO}])


@pytest.mark.django_db
def test_the_owner_may_load_past_history_with_its_dates_and_it_is_chained_all_the_same():
    with audit_history_import():
        loaded = AuditEvent.objects.bulk_create(
            [AuditEvent(action="demo", at=LONG_AGO + timedelta(hours=n)) for n in range(3)]
        )
    stored = list(AuditEvent.objects.filter(pk__in=[e.pk for e in loaded]).order_by("seq"))
    assert [e.at for e in stored] == [LONG_AGO + timedelta(hours=n) for n in range(3)]
    assert [e.prev_hash for e in stored[1:]] == [e.hash for e in stored[:-1]]
    # Outside the import the caller's time is ignored again.
    later = AuditEvent.objects.create(action="demo", at=LONG_AGO)
    later.refresh_from_db()
    assert later.at > LONG_AGO + timedelta(days=1)


@pytest.mark.django_db(transaction=True)
def test_appends_to_one_chain_take_turns_while_other_chains_go_on(company):
    busy, other = ApplicationFactory(company=company), ApplicationFactory(company=company)
    holding, done = threading.Event(), {}

    def append(name, application, hold=False):
        try:
            with transaction.atomic():
                audit_record(action=name, application=application)
                if hold:
                    holding.set()
                    release.wait(timeout=10)
            done[name] = timezone.now()
        finally:
            connection.close()

    release = threading.Event()
    holder = threading.Thread(target=append, args=("holder", busy, True))
    holder.start()
    assert holding.wait(timeout=10)
    elsewhere = threading.Thread(target=append, args=("elsewhere", other))
    same = threading.Thread(target=append, args=("same", busy))
    elsewhere.start(), same.start()
    elsewhere.join(timeout=10)
    assert "elsewhere" in done and "same" not in done  # the same chain waits for the holder
    release.set()
    for thread in (holder, same):
        thread.join(timeout=10)
    trail = list(AuditEvent.objects.filter(application=busy).order_by("seq"))
    assert [(e.action, e.seq) for e in trail] == [("holder", 1), ("same", 2)]
    assert trail[1].prev_hash == trail[0].hash
