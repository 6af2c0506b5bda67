"""An extension applied and a repayment recorded at once on the same loan leave one
consistent state: both lock the loan, and the extension reads the position under the lock."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from applications.models import LoanApplication
from disbursement.models import Instalment
from postloan import services
from postloan.changes import change_apply
from postloan.daily import loan_positions
from postloan.models import Loan
from tests.changes.conftest import TODAY, approved_change

D = Decimal


@pytest.mark.django_db(transaction=True)
def test_an_extension_and_a_repayment_at_once_leave_one_consistent_state(staff, loan):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    pk = approved_change(staff, loan, kind="extension", extension_months=6)
    results: dict = {}
    barrier = threading.Barrier(2)

    def run(name, action):
        from django.db import connection as conn

        try:
            barrier.wait()
            action()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - the loser's error is what we assert
            results[name] = f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()

    threads = [
        threading.Thread(
            target=run,
            args=(
                "apply",
                lambda: change_apply(
                    actor=staff["rm"], application_id=pk, agreement_reference="SA-9"
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
    assert results == {"apply": "ok", "repay": "ok"}
    assert LoanApplication.objects.get(pk=pk).status == "change_applied"
    schedule = Instalment.objects.filter(application_id=loan.application_id)
    assert sum((i.principal for i in schedule), D("0")) == D("120000.00")
    assert loan.schedule_revisions.count() == 1
    # What the loan stores is what its position reads, and the money is all counted.
    stored = Loan.objects.get(pk=loan.pk)
    position = loan_positions(loan_ids=[loan.pk], as_of=TODAY)[loan.pk]
    assert stored.outstanding_principal == position.outstanding_principal
    assert stored.outstanding_total == position.outstanding_total
    assert (
        stored.paid_total
        == position.paid_total
        == sum((r.amount for r in stored.repayments.all()), D("0"))
    )
