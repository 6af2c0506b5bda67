"""A prepayment's confirmation and a repayment racing on the same loan leave one consistent
state: both lock the loan, and the confirmation re-quotes under the lock."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection

from disbursement.models import Instalment
from postloan import services
from postloan.daily import loan_positions
from postloan.models import Loan, Prepayment
from tests.postloan.conftest import TODAY
from tests.postloan.prepayment_helpers import product_with, scheduled_loan

D = Decimal


@pytest.mark.django_db(transaction=True)
def test_a_confirmation_and_a_repayment_at_once_leave_one_consistent_state(staff, company, rules):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    loan = scheduled_loan(
        company=company,
        rm=staff["rm"],
        checker=staff["checker"],
        product=product_with(),
        start=TODAY - timedelta(days=10),
    )
    prepayment = services.prepayment_file(
        application_id=loan.application_id,
        actor=staff["rm"],
        kind="lower_instalment",
        value_date=TODAY,
        principal=D("20000.00"),
    )
    results: dict = {}
    barrier = threading.Barrier(2)

    def run(name, action):
        from django.db import connection as conn

        try:
            barrier.wait()
            action()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - the loser's error is what we assert
            results[name] = type(exc).__name__
        finally:
            conn.close()

    threads = [
        threading.Thread(
            target=run,
            args=(
                "confirm",
                lambda: services.prepayment_confirm(
                    prepayment_id=prepayment.pk, actor=staff["checker"]
                ),
            ),
        ),
        threading.Thread(
            target=run,
            args=(
                "repay",
                lambda: services.repayment_record(
                    application_id=loan.application_id,
                    actor=staff["rm"],
                    amount=D("500.00"),
                    value_date=TODAY,
                ),
            ),
        ),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results["repay"] == "ok"
    assert results["confirm"] in ("ok", "Conflict")
    prepayment.refresh_from_db()
    confirmed = results["confirm"] == "ok"
    assert prepayment.status == ("confirmed" if confirmed else "requested")
    assert (prepayment.repayment_id is not None) is confirmed
    schedule = Instalment.objects.filter(application_id=loan.application_id)
    assert sum((i.principal for i in schedule), D("0")) == D("120000.00")
    assert loan.schedule_revisions.count() == (1 if confirmed else 0)
    # What the loan stores is what its position reads, and the money is all counted.
    stored = Loan.objects.get(pk=loan.pk)
    position = loan_positions(loan_ids=[loan.pk], as_of=TODAY)[loan.pk]
    assert stored.outstanding_principal == position.outstanding_principal
    assert (
        stored.paid_total
        == position.paid_total
        == sum((r.amount for r in stored.repayments.all()), D("0"))
    )
    assert Prepayment.objects.filter(loan=loan).count() == 1
