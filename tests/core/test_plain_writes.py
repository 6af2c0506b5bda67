"""loanflow.rawsql's plain INSERT and UPDATE write what Model.save would have written."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from applications.models import LoanApplication
from audit.models import AuditEvent
from audit.services import audit_record
from disbursement.models import Offer
from loanflow.inserts import insert_unless_conflict
from loanflow.rawsql import update_row
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db


def _row(model, pk) -> dict:
    return model.objects.filter(pk=pk).values().get()


def test_an_audit_row_written_in_plain_sql_reads_back_as_the_orm_wrote_it(staff, company,
                                                                           product):
    application = ApplicationFactory(company=company, product=product)
    event = audit_record(action="approve", actor=staff["rm"], actor_role="",
                         application=application, from_state="in_approval",
                         to_state="approved", comment="ok",
                         data={"reasons": ["a", "b"], "amount": "12.50", "nested": {"k": 1}})
    orm = AuditEvent.objects.create(action="approve", actor=staff["rm"], actor_role="",
                                    application=application, from_state="in_approval",
                                    to_state="approved", comment="ok",
                                    data={"reasons": ["a", "b"], "amount": "12.50",
                                          "nested": {"k": 1}})
    assert event.pk and not event._state.adding
    plain, saved = _row(AuditEvent, event.pk), _row(AuditEvent, orm.pk)
    for row in (plain, saved):
        row.pop("id")
    assert abs(plain.pop("at") - saved.pop("at")) < timedelta(seconds=5)
    assert plain == saved
    assert plain["data"] == {"reasons": ["a", "b"], "amount": "12.50", "nested": {"k": 1}}
    assert AuditEvent.objects.get(pk=event.pk).at == event.at


def test_a_second_offer_for_one_application_is_not_inserted_and_says_so(company, product):
    application = ApplicationFactory(company=company, product=product, status="approved")

    def offer():
        return Offer(application=application, amount=Decimal("100000.00"), currency="CNY",
                     interest_rate=Decimal("4.35"), term_months=12,
                     repayment_method=application.repayment_method, language="en",
                     conditions=[], schedule=[])

    first, second = offer(), offer()
    assert insert_unless_conflict(first) is True
    assert first.pk and first.created_at is not None  # auto_now_add applied
    assert insert_unless_conflict(second) is False
    assert second.pk is None and second._state.adding
    assert Offer.objects.filter(application=application).count() == 1
    assert Offer.objects.get(application=application).amount == Decimal("100000.00")


def test_a_plain_update_writes_the_named_fields_only_and_refreshes_auto_now(company,
                                                                            product):
    application = ApplicationFactory(company=company, product=product, purpose="old")
    before = _row(LoanApplication, application.pk)
    application.purpose, application.term_months = "new", 99
    application.updated_at = None
    update_row(application, ["purpose", "updated_at"])
    after = _row(LoanApplication, application.pk)
    assert after["purpose"] == "new"
    assert after["term_months"] == before["term_months"] != 99
    assert after["updated_at"] > before["updated_at"]
    assert timezone.now() - after["updated_at"] < timedelta(seconds=5)


def test_a_plain_update_of_a_row_that_is_gone_raises_as_save_does(company, product):
    application = ApplicationFactory(company=company, product=product)
    for write in (lambda stray: update_row(stray, ["purpose"]),
                  lambda stray: stray.save(update_fields=["purpose"])):
        stray = LoanApplication(pk=application.pk + 10_000, purpose="x")
        with pytest.raises(DatabaseError), transaction.atomic():
            write(stray)
    assert not LoanApplication.objects.filter(purpose="x").exists()
