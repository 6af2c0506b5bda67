"""An audit row records exactly what it was given, as a model save would."""

from datetime import timedelta

import pytest

from audit.models import AuditEvent
from audit.services import audit_record
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db


def _row(model, pk) -> dict:
    return model.objects.filter(pk=pk).values().get()


def test_an_audit_row_reads_back_as_a_model_save_writes_it(staff, company, product):
    application = ApplicationFactory(company=company, product=product)
    event = audit_record(
        action="approve",
        actor=staff["rm"],
        actor_role="",
        application=application,
        from_state="in_approval",
        to_state="approved",
        comment="ok",
        data={"reasons": ["a", "b"], "amount": "12.50", "nested": {"k": 1}},
    )
    orm = AuditEvent.objects.create(
        action="approve",
        actor=staff["rm"],
        actor_role="",
        application=application,
        from_state="in_approval",
        to_state="approved",
        comment="ok",
        data={"reasons": ["a", "b"], "amount": "12.50", "nested": {"k": 1}},
    )
    assert event.pk and not event._state.adding
    plain, saved = _row(AuditEvent, event.pk), _row(AuditEvent, orm.pk)
    for row in (plain, saved):
        row.pop("id")
        # Each its own link of the application's chain.
        assert row.pop("chain") == f"application:{application.pk}"
        row.pop("seq"), row.pop("prev_hash"), row.pop("hash")
    assert abs(plain.pop("at") - saved.pop("at")) < timedelta(seconds=5)
    assert plain == saved
    assert plain["data"] == {"reasons": ["a", "b"], "amount": "12.50", "nested": {"k": 1}}
    # The database's values (time, chain) are read back into the returned instance.
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.at, stored.seq, stored.hash) == (event.at, event.seq, event.hash)
